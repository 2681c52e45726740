import { DtlsSocket } from 'werift';

/**
 * Handshake retransmissions for werift 0.24's DTLS (RFC 6347 §4.2.2 and §4.2.4).
 *
 * DTLS runs over UDP, so each side retransmits its last flight when the answer is late, and the peer may answer
 * every copy. werift handles some of these copies and not others:
 *
 * - Client, a second HelloVerifyRequest (the server answered both copies of a retransmitted ClientHello): werift's
 *   flight 3 throws, DTLS is marked failed and the session dies on its ICE timeout while the other side believes it
 *   is connected. The SFU is the DTLS client of every WHEP viewer, so a slow viewer or a saturated core lost viewers
 *   this way. The copy has message_seq 0, which the client has already received: discard it (§4.2.2). The client's
 *   own timer keeps retransmitting its second ClientHello.
 * - Client, a retransmitted flight 4 after flight 5 went out: werift re-ran its handlers (a new ECDHE key pair for
 *   a key exchange already sent). Discard its messages, but let the ServerHelloDone through, on which werift
 *   retransmits flight 5 (§4.2.4: a retransmitted flight from the peer means it lost ours). Once connected,
 *   discard the whole flight and a repeated Finished.
 * - Server, a late copy of the first ClientHello (no cookie) while the handshake is under way: werift started the
 *   handshake over (new random, new key pair, sequence numbers reset), so the client's flight 5 no longer matched.
 *   Discard it (§4.2.2: message_seq 0 already received).
 * - Server, a late copy of the second ClientHello (the cookie werift issued) once connected: werift took it for a
 *   renegotiation and threw its keys away. Discard it. A real new handshake starts with a ClientHello without a
 *   cookie, which werift still honours.
 *
 * werift is a dependency: rather than edit its files at install time (three copies under the workspaces, each with
 * a CommonJS build and the ESM bundle the SFU loads), the SFU filters those copies where werift hands every
 * complete handshake message to its flights (`DtlsSocket.handleFragmentHandshake`). Installed once per process.
 */

/** The handshake types (RFC 5246 §7.4, RFC 6347 §4.3.2) the rules look at. */
const HandshakeType = {
  clientHello: 1,
  serverHello: 2,
  helloVerifyRequest: 3,
  certificate: 11,
  serverKeyExchange: 12,
  certificateRequest: 13,
  serverHelloDone: 14,
  finished: 20,
} as const;

const CLIENT = 1; // werift's SessionType.CLIENT
/** werift's flight counter: the client sends 1, 3, 5; the server 2, 4, 6; the client sets 7 when it hears 6. */
const SERVER_FLIGHT_4 = 4;
const CLIENT_FLIGHT_3 = 3;
const CLIENT_FLIGHT_5 = 5;

interface Handshake {
  msg_type: number;
  length: number;
  fragment_offset: number;
  fragment_length: number;
  fragment: Buffer;
}

interface SocketState {
  sessionType: number;
  connected: boolean;
  dtls: { flight: number; cookie?: Buffer | undefined };
}

/** Whether `message` is a copy the handshake has already moved past and must not see again. */
export function isStaleRetransmission(socket: SocketState, message: Handshake): boolean {
  const flight = socket.dtls.flight;
  if (socket.sessionType === CLIENT) {
    switch (message.msg_type) {
      case HandshakeType.helloVerifyRequest:
        return flight >= CLIENT_FLIGHT_3;
      case HandshakeType.serverHello:
      case HandshakeType.certificate:
      case HandshakeType.serverKeyExchange:
      case HandshakeType.certificateRequest:
        return flight >= CLIENT_FLIGHT_5;
      case HandshakeType.serverHelloDone:
      case HandshakeType.finished:
        return socket.connected;
      default:
        return false;
    }
  }
  if (message.msg_type !== HandshakeType.clientHello) return false;
  const cookie = clientHelloCookie(message);
  if (cookie === undefined) return false; // fragmented or malformed: werift decides
  if (cookie.length === 0) return !socket.connected && flight >= SERVER_FLIGHT_4;
  return socket.connected && socket.dtls.cookie !== undefined && cookie.equals(socket.dtls.cookie);
}

/** The cookie of a complete ClientHello (RFC 6347 §4.2.1), or undefined if this is a fragment or too short. */
export function clientHelloCookie(message: Handshake): Buffer | undefined {
  if (message.fragment_offset !== 0 || message.fragment_length !== message.length) return undefined;
  const body = message.fragment;
  // client_version (2) + random (32), then session_id <0..32>, then cookie <0..255>.
  const sessionIdAt = 34;
  if (body.length <= sessionIdAt) return undefined;
  const cookieAt = sessionIdAt + 1 + body[sessionIdAt]!;
  if (body.length <= cookieAt) return undefined;
  const end = cookieAt + 1 + body[cookieAt]!;
  if (body.length < end) return undefined;
  return body.subarray(cookieAt + 1, end);
}

let installed = false;

/** Filter stale handshake retransmissions out of every werift DTLS socket in this process. Idempotent. */
export function guardDtlsRetransmissions(): void {
  if (installed) return;
  const proto = DtlsSocket.prototype as unknown as {
    handleFragmentHandshake?: (this: SocketState, messages: Handshake[]) => Handshake[];
  };
  const original = proto.handleFragmentHandshake;
  if (typeof original !== 'function') {
    throw new Error('werift DtlsSocket.handleFragmentHandshake is gone: review peer/dtls-retransmissions.ts');
  }
  proto.handleFragmentHandshake = function (this: SocketState, messages: Handshake[]): Handshake[] {
    return original.call(this, messages).filter((m) => !isStaleRetransmission(this, m));
  };
  installed = true;
}
