import {
  MediaStreamTrack,
  RTCPeerConnection,
  RtpHeader,
  RtpPacket,
  useAbsSendTime,
  useNACK,
  useOPUS,
  usePLI,
  useREMB,
  useSdesMid,
  useVP8,
} from 'werift';

/** Same extension ids on every m-line (werift numbers them in list order). */
const extensions = () => {
  const mid = useSdesMid();
  const abs = useAbsSendTime();
  return { video: [mid, abs], audio: [mid, abs] };
};

export const loopback = {
  iceServers: [],
  iceUseIpv4: false,
  iceUseIpv6: false,
  iceAdditionalHostAddresses: ['127.0.0.1'],
};

export async function gatheredOffer(pc: RTCPeerConnection): Promise<string> {
  await pc.setLocalDescription(await pc.createOffer());
  if (pc.iceGatheringState !== 'complete') {
    await new Promise<void>((resolve) => {
      const sub = pc.iceGatheringStateChange.subscribe((s) => {
        if (s === 'complete') {
          sub.unSubscribe();
          resolve();
        }
      });
    });
  }
  return pc.localDescription!.sdp;
}

export async function exchange(url: string, pc: RTCPeerConnection, token?: string): Promise<string> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/sdp', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: await gatheredOffer(pc),
  });
  if (res.status !== 201) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  return res.headers.get('location') ?? '';
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export const nowMs = () => performance.timeOrigin + performance.now();

/** RTP timestamps carry the send time (90 kHz), so receivers can tell latency from the clear header. */
export const sendTimeToRtp = (ms: number) => Math.floor(ms * 90) >>> 0;

export function createPublisherPeer(): { pc: RTCPeerConnection; video: MediaStreamTrack } {
  const pc = new RTCPeerConnection({
    ...loopback,
    codecs: { video: [useVP8({ rtcpFeedback: [useNACK(), usePLI(), useREMB()] })], audio: [useOPUS()] },
    headerExtensions: extensions(),
  });
  const video = new MediaStreamTrack({ kind: 'video' });
  pc.addTransceiver(video, { direction: 'sendonly' });
  return { pc, video };
}

export function createSubscriberPeer(): RTCPeerConnection {
  const pc = new RTCPeerConnection({
    ...loopback,
    codecs: { video: [useVP8({ rtcpFeedback: [useNACK(), usePLI(), useREMB()] })], audio: [useOPUS()] },
    headerExtensions: extensions(),
  });
  pc.addTransceiver('video', { direction: 'recvonly' });
  return pc;
}

/** A VP8-looking payload: keyframes start with the bits the SFU looks for. */
export function payload(keyframe: boolean, size: number): Buffer {
  const b = Buffer.alloc(size, 0x5a);
  b[0] = 0x10;
  b[1] = keyframe ? 0x00 : 0x01;
  return b;
}

export { RtpHeader, RtpPacket };
