import type { RTCDtlsTransport } from 'werift';

/**
 * What werift 0.24's DTLS client keeps of its handshake once it is connected: every handshake message of both
 * sides (`handshakeCache`, used to compute the Finished and extended-master-secret hashes), the last flight's
 * fragments and serialized records (`lastFlight`, `lastMessage`, for retransmissions) and the flight-5 object. werift
 * never lets go of them. They are small Buffers cut from Node's shared 8 KiB allocation pool, so each one also keeps
 * its whole pool slab alive: with the objects around them, about 10–20 KiB per viewer (the SFU is the DTLS client of
 * every WHEP viewer).
 *
 * A connected client has no use for any of it: it sends no further flight, and the handshake guard
 * (`dtls-retransmissions.ts`) discards every handshake message a connected client receives. What the session
 * still needs — the cipher (master secret, record keys) and the SRTP keys — is elsewhere and stays.
 */
interface DtlsClientState {
  sessionType: number;
  connected: boolean;
  flight5?: unknown;
  bufferFragmentedHandshakes: unknown[];
  dtls: { flight: number; handshakeCache: unknown; lastFlight: unknown[]; lastMessage: unknown[] };
}

const CLIENT = 1; // werift's SessionType.CLIENT
/** werift's flight counter reaches 7 when the client hears the server's Finished (flight 6). */
const CONNECTED_FLIGHT = 7;

/**
 * Drop the handshake state of a connected DTLS client. Returns whether it did; does nothing for a DTLS server (it
 * must answer a retransmitted flight 5 with its flight 6 again) or a client still in its handshake.
 */
export function releaseDtlsHandshakeState(transport: RTCDtlsTransport | undefined): boolean {
  const socket = (transport as unknown as { dtls?: DtlsClientState } | undefined)?.dtls;
  if (!socket || socket.sessionType !== CLIENT || !socket.connected || socket.dtls.flight < CONNECTED_FLIGHT) {
    return false;
  }
  socket.dtls.handshakeCache = {};
  socket.dtls.lastFlight = [];
  socket.dtls.lastMessage = [];
  socket.flight5 = undefined;
  socket.bufferFragmentedHandshakes = [];
  return true;
}
