import { type FetchLike, WhipPublisher } from '@fusionflow/client';
import { MediaStreamTrack, RTCPeerConnection, RtpHeader, RtpPacket } from 'werift';

/**
 * werift as the browser's RTCPeerConnection, on loopback only (the SDK's players and publishers take it).
 *
 * One thing a browser does that werift (0.24) does not: after an ICE restart's answer, werift forgets the selected
 * pair but, its DTLS being up, never runs connectivity checks again, so nothing is sent. A browser's ICE agent checks
 * (and, controlling, nominates) on its own; this does the same, so ICE restarts behave as they do in a browser.
 */
export class LoopbackPeerConnection extends RTCPeerConnection {
  constructor() {
    super({ iceServers: [], iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'] });
  }

  override async setRemoteDescription(description: Parameters<RTCPeerConnection['setRemoteDescription']>[0]) {
    const result = await super.setRemoteDescription(description);
    if (description.type === 'answer') {
      for (const dtls of this.dtlsTransports) {
        const ice = dtls.iceTransport;
        if (dtls.state !== 'connected' || ice.connection.nominated || ice.state === 'closed') continue;
        ice.start().catch(() => undefined);
      }
    }
    return result;
  }
}

/**
 * The SDK's WhipPublisher with werift sending synthetic VP8 (a keyframe every second) and, unless
 * `audio: false`, Opus-sized packets, 50 per second. `stop()` ends the session and the sending.
 */
export async function publishSynthetic(o: {
  url: string;
  token: string;
  audio?: boolean;
  fetch?: FetchLike;
  traceparent?: string;
}): Promise<{ publisher: WhipPublisher; stop(): Promise<void> }> {
  const video = new MediaStreamTrack({ kind: 'video' });
  const audio = o.audio === false ? undefined : new MediaStreamTrack({ kind: 'audio' });
  const tracks = audio ? [video, audio] : [video];
  const publisher = new WhipPublisher(
    {
      url: o.url,
      token: o.token,
      RTCPeerConnection: LoopbackPeerConnection as never,
      gatherTimeoutMs: 1000,
      ...(o.fetch ? { fetch: o.fetch } : {}),
      ...(o.traceparent ? { traceparent: o.traceparent } : {}),
    },
    { getTracks: () => tracks } as unknown as MediaStream,
  );
  await publisher.start();
  let seq = 0;
  const timer = setInterval(() => {
    seq = (seq + 1) & 0xffff;
    const payload = Buffer.alloc(200, 0x55);
    payload[0] = 0x10; // VP8 descriptor: S=1
    payload[1] = seq % 50 === 1 ? 0x00 : 0x01; // keyframe or delta
    video.writeRtp(new RtpPacket(new RtpHeader({ sequenceNumber: seq, timestamp: seq * 3000, marker: true }), payload));
    audio?.writeRtp(new RtpPacket(new RtpHeader({ sequenceNumber: seq, timestamp: seq * 960 }), Buffer.alloc(40, 1)));
  }, 20);
  return {
    publisher,
    stop: async () => {
      clearInterval(timer);
      await publisher.stop();
    },
  };
}

/** A werift peer that offers to send (WHIP) or receive (WHEP) audio and video, on 127.0.0.1. */
export async function offerFrom(direction: 'sendonly' | 'recvonly'): Promise<{ pc: RTCPeerConnection; sdp: string }> {
  const pc = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'] });
  for (const kind of ['video', 'audio'] as const) {
    pc.addTransceiver(direction === 'sendonly' ? new MediaStreamTrack({ kind }) : kind, { direction });
  }
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const sub = pc.iceGatheringStateChange.subscribe((state) => {
        if (state === 'complete') {
          sub.unSubscribe();
          resolve();
        }
      });
    });
  }
  return { pc, sdp: pc.localDescription!.sdp };
}
