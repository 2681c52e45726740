import type { RTCPeerConnection } from 'werift';

/**
 * DTLS close_notify (RFC 5246 §7.2.1, RFC 6347) when the SFU ends a session.
 *
 * werift 0.24 closes a peer connection without telling the other side ("todo impl send alert" in its
 * `RTCDtlsTransport.stop`), so a viewer whose session the server ended (publisher gone, kicked, shut
 * down) only noticed when its consent checks went unanswered: 5–7.6 s for a whep.js viewer in Chromium.
 * A close_notify is the immediate revocation RFC 7675 §5.2 asks for: browsers close the DTLS transport
 * (and the peer connection's state follows) as soon as it arrives. Sent once per connected transport,
 * encrypted with the record layer's current epoch, before the ICE transport stops.
 */

/** TLS record content type and alert fields (RFC 5246 §6.2.1, §7.2). */
const CONTENT_TYPE_ALERT = 21;
const ALERT_LEVEL_WARNING = 1;
const ALERT_CLOSE_NOTIFY = 0;
const RECORD_HEADER_BYTES = 13;

interface RecordHeader {
  contentType: number;
  protocolVersion: { major: number; minor: number };
  epoch: number;
  sequenceNumber: number;
  contentLen: number;
}

/** The parts of werift's `DtlsSocket` this needs (it exports the class, not these fields' types). */
interface DtlsSocketState {
  connected?: boolean;
  dtls?: { version: { major: number; minor: number }; epoch: number; recordSequenceNumber: number };
  cipher?: {
    encryptPacket(pkt: { recordLayerHeader: RecordHeader; fragment: Buffer }): {
      recordLayerHeader: RecordHeader;
      fragment: Buffer;
    };
  };
  transport?: { send(buf: Buffer): Promise<unknown> | unknown };
}

/** werift's ICE connection, where its UDP socket can be reached (the same path fanout/transport-send.ts takes). */
interface IceConnectionState {
  nominated?: {
    remoteAddr: readonly [string, number];
    protocol: {
      transport?: {
        closed?: boolean;
        socket?: { send(b: Buffer, port: number, address: string, done: (err: Error | null) => void): void };
      };
    };
  };
}

/**
 * Send on the selected pair's UDP socket and wait until Node handed the datagram to the kernel: werift's own
 * send does not wait, and the ICE transport closes its socket right after, which would drop the alert.
 * TCP pairs (TURN over TCP) go through werift's send.
 */
function sendFlushed(
  connection: IceConnectionState | undefined,
  socket: DtlsSocketState,
  record: Buffer,
): Promise<unknown> {
  const pair = connection?.nominated;
  const udp = pair?.protocol.transport;
  if (!pair || !udp?.socket || udp.closed) return Promise.resolve(socket.transport?.send(record));
  const send = udp.socket.send.bind(udp.socket);
  return new Promise<void>((resolve) => send(record, pair.remoteAddr[1], pair.remoteAddr[0], () => resolve()));
}

/** One DTLS record: the 13-byte header (RFC 6347 §4.1) and its (encrypted) fragment. */
export function serializeRecord(header: RecordHeader, fragment: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + fragment.length);
  out.writeUInt8(header.contentType, 0);
  out.writeUInt8(header.protocolVersion.major, 1);
  out.writeUInt8(header.protocolVersion.minor, 2);
  out.writeUInt16BE(header.epoch, 3);
  out.writeUIntBE(header.sequenceNumber, 5, 6);
  out.writeUInt16BE(fragment.length, 11);
  fragment.copy(out, RECORD_HEADER_BYTES);
  return out;
}

/**
 * Send close_notify on every connected DTLS transport of `pc`. Returns how many were sent; never throws
 * (a transport that cannot send any more is being closed anyway).
 */
export async function sendCloseNotify(pc: RTCPeerConnection): Promise<number> {
  let sent = 0;
  for (const transport of pc.dtlsTransports) {
    const socket = (transport as unknown as { dtls?: DtlsSocketState }).dtls;
    if (!socket?.connected || !socket.dtls || !socket.cipher || !socket.transport) continue;
    try {
      const sequenceNumber = ++socket.dtls.recordSequenceNumber;
      const record = socket.cipher.encryptPacket({
        recordLayerHeader: {
          contentType: CONTENT_TYPE_ALERT,
          protocolVersion: socket.dtls.version,
          epoch: socket.dtls.epoch,
          sequenceNumber,
          contentLen: 2,
        },
        fragment: Buffer.from([ALERT_LEVEL_WARNING, ALERT_CLOSE_NOTIFY]),
      });
      const connection = (transport.iceTransport as unknown as { connection?: IceConnectionState }).connection;
      await sendFlushed(connection, socket, serializeRecord(record.recordLayerHeader, record.fragment));
      sent++;
    } catch {
      // the ICE transport is already gone: nothing to tell
    }
  }
  return sent;
}
