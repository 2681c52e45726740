import { CallClient, type CallClientOptions, type CallEvents, type ReconcileState } from '@fusionflow/client';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';

/** Synthetic RTP as "camera" or "microphone" (werift counts packets where a browser counts decoded frames). */
export class FakeSource {
  readonly track: MediaStreamTrack;
  readonly #timer: NodeJS.Timeout;
  #seq = 0;
  constructor(kind: 'audio' | 'video') {
    this.track = new MediaStreamTrack({ kind });
    this.#timer = setInterval(() => {
      this.#seq = (this.#seq + 1) & 0xffff;
      const header = new RtpHeader({ sequenceNumber: this.#seq, timestamp: this.#seq * 3000, marker: true });
      this.track.writeRtp(new RtpPacket(header, Buffer.alloc(100, 1)));
    }, 20);
  }
  stop() {
    clearInterval(this.#timer);
    this.track.stop();
  }
}

/** werift as the browser's RTCPeerConnection: real ICE, DTLS and SRTP on 127.0.0.1; `made` collects each one. */
export const createPeerConnection = (made?: RTCPeerConnection[]) => {
  const pc = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'] });
  made?.push(pc);
  return pc as unknown as globalThis.RTCPeerConnection;
};

/**
 * The SDK's CallClient in Node with werift and a fake camera and microphone; `close()` stops all
 * of it. Reconciles fast (200 ms samples) so tests do not wait. `pcs` collects every peer connection it makes;
 * `options` adds to (or overrides) the client's options, `reconcile` merged.
 */
export function nodeCallClient(
  url: string,
  token: string,
  pcs?: RTCPeerConnection[],
  options: Partial<CallClientOptions> = {},
): { client: CallClient; close(): void } {
  const client = new CallClient({
    url,
    token: () => token,
    createPeerConnection: () => createPeerConnection(pcs),
    socketOptions: { transports: ['websocket'] },
    ...options,
    reconcile: { sampleMs: 200, missingMs: 1000, retryMs: 1000, ...options.reconcile },
  });
  const audio = new FakeSource('audio');
  const video = new FakeSource('video');
  client.setLocalTracks({ audio: audio.track as never, video: video.track as never });
  return {
    client,
    close: () => {
      client.close();
      audio.stop();
      video.stop();
    },
  };
}

/** Resolves once the client's view of a peer reaches that reconciliation state. */
export const reaches = (c: CallClient, peerId: string, state: ReconcileState) =>
  c.peer(peerId as never)?.reconcile === state
    ? Promise.resolve()
    : c.once('reconciliation', (e: CallEvents['reconciliation']) => e.peerId === peerId && e.state === state);
