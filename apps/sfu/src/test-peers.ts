import type { MediaEvent } from '@fusionflow/protocol';
import {
  MediaStreamTrack,
  RTCPeerConnection,
  RTCRtpCodecParameters,
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
import { type SfuConfig, testSfuConfig } from './config.js';
import type { EventSink, MediaEventInput } from './control/event-sink.js';
import { createSfu, type Sfu, type SfuOptions } from './main.js';

const sameIds = () => {
  const mid = useSdesMid();
  const abs = useAbsSendTime();
  return { video: [mid, abs], audio: [mid, abs] };
};

/** Real werift peers on 127.0.0.1 for the SFU's tests. */
const loopback = { iceServers: [], iceUseIpv4: false, iceUseIpv6: false, iceAdditionalHostAddresses: ['127.0.0.1'] };

export class RecordingEvents implements EventSink {
  readonly events: MediaEventInput[] = [];
  report(e: MediaEventInput): void {
    this.events.push(e);
  }
  async close(): Promise<void> {}
  types(): MediaEvent['type'][] {
    return this.events.map((e) => e.type);
  }
}

export interface TestSfu {
  sfu: Sfu;
  url: string;
  events: RecordingEvents;
  close(): Promise<void>;
}

export async function startTestSfu(
  overrides: Partial<SfuConfig> = {},
  options: Pick<SfuOptions, 'recordingReports'> = {},
): Promise<TestSfu> {
  const events = new RecordingEvents();
  const sfu = await createSfu(testSfuConfig(overrides), { events, ...options });
  const url = await sfu.listen();
  return { sfu, url, events, close: () => sfu.close('test over') };
}

export function waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      if (predicate()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

async function gatheredSdp(pc: RTCPeerConnection): Promise<string> {
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

export interface WhipResult {
  status: number;
  location: string | null;
  etag: string | null;
  links: string[];
  body: string;
  contentType: string | null;
}

export async function postOffer(
  url: string,
  sdp: string,
  token?: string,
  contentType = 'application/sdp',
): Promise<WhipResult> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': contentType, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: sdp,
  });
  return {
    status: res.status,
    location: res.headers.get('location'),
    etag: res.headers.get('etag'),
    links: (res.headers.get('link') ?? '').split(/,\s*(?=<)/).filter(Boolean),
    body: await res.text(),
    contentType: res.headers.get('content-type'),
  };
}

/** VP8 keyframe/delta payloads the SFU recognises (descriptor + payload header), padded to `size`. */
export function vp8Payload(keyframe: boolean, size = 1000): Buffer {
  const b = Buffer.alloc(size, 0x55);
  b[0] = 0x10; // S=1, PID=0, no extensions
  b[1] = keyframe ? 0x00 : 0x01; // P bit
  return b;
}

/** A werift publisher that sends synthetic VP8 (and Opus) RTP through WHIP. */
export class TestPublisher {
  readonly pc = new RTCPeerConnection({
    ...loopback,
    codecs: {
      video: [useVP8({ rtcpFeedback: [useNACK(), usePLI(), useREMB()] })],
      audio: [useOPUS()],
    },
    headerExtensions: sameIds(),
  });
  readonly video = new MediaStreamTrack({ kind: 'video' });
  readonly audio = new MediaStreamTrack({ kind: 'audio' });
  location: string | null = null;
  plis = 0;
  #seq = 1000;
  #aseq = 5000;
  #ts = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly withAudio = true) {
    const v = this.pc.addTransceiver(this.video, { direction: 'sendonly' });
    v.sender.onPictureLossIndication.subscribe(() => {
      this.plis++;
    });
    if (withAudio) this.pc.addTransceiver(this.audio, { direction: 'sendonly' });
  }

  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return gatheredSdp(this.pc);
  }

  async publish(base: string, room: string, token?: string): Promise<WhipResult> {
    const res = await postOffer(`${base}/api/whip/publish/${room}`, await this.offer(), token);
    if (res.status === 201) {
      this.location = res.location;
      await this.pc.setRemoteDescription({ type: 'answer', sdp: res.body });
    }
    return res;
  }

  connected(): Promise<void> {
    return waitFor(() => this.pc.connectionState === 'connected', 10_000, 'publisher connected');
  }

  /** Send one video frame (one packet) and, every other frame, an audio packet. */
  sendFrame(keyframe: boolean, size = 1000): void {
    this.#ts = (this.#ts + 3000) >>> 0;
    const header = new RtpHeader({ sequenceNumber: this.#seq, timestamp: this.#ts, marker: true, payloadType: 96 });
    this.#seq = (this.#seq + 1) & 0xffff;
    this.video.writeRtp(new RtpPacket(header, vp8Payload(keyframe, size)));
    if (this.withAudio) {
      const a = new RtpHeader({ sequenceNumber: this.#aseq, timestamp: this.#ts, marker: false, payloadType: 111 });
      this.#aseq = (this.#aseq + 1) & 0xffff;
      this.audio.writeRtp(new RtpPacket(a, Buffer.alloc(80, 0x11)));
    }
  }

  /** Keep sending: a keyframe every `gop` frames, and one whenever a PLI arrives. */
  start(intervalMs = 20, gop = 100): void {
    let n = 0;
    let lastPli = 0;
    this.#timer = setInterval(() => {
      const key = n % gop === 0 || this.plis !== lastPli;
      lastPli = this.plis;
      this.sendFrame(key);
      n++;
    }, intervalMs);
  }

  /**
   * Send captured RTP packets (a fixture) at their capture times divided by `speed`, keeping their
   * payloads, sequence numbers and timestamps; resolves when the last one is sent.
   */
  replay(packets: { kind: 'audio' | 'video'; atMs: number; rtp: Buffer }[], speed = 1): Promise<void> {
    const started = performance.now();
    let i = 0;
    return new Promise((resolve) => {
      this.#timer = setInterval(() => {
        const at = (performance.now() - started) * speed;
        for (; i < packets.length && packets[i]!.atMs <= at; i++) {
          const p = packets[i]!;
          (p.kind === 'video' ? this.video : this.audio).writeRtp(RtpPacket.deSerialize(p.rtp));
        }
        if (i >= packets.length) {
          clearInterval(this.#timer);
          resolve();
        }
      }, 5);
    });
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async close(): Promise<void> {
    this.stop();
    await this.pc.close();
  }
}

/** A werift WHEP subscriber that counts what it receives. */
export class TestSubscriber {
  readonly pc: RTCPeerConnection;
  location: string | null = null;
  videoPackets = 0;
  audioPackets = 0;
  keyframes = 0;
  firstVideoPayload: Buffer | undefined;
  readonly videoSeqs: number[] = [];
  ssrcs = new Set<number>();

  constructor(videoCodec: RTCRtpCodecParameters = useVP8({ rtcpFeedback: [useNACK(), usePLI(), useREMB()] })) {
    this.pc = new RTCPeerConnection({
      ...loopback,
      codecs: { video: [videoCodec], audio: [useOPUS()] },
      headerExtensions: sameIds(),
    });
    this.pc.addTransceiver('video', { direction: 'recvonly' });
    this.pc.addTransceiver('audio', { direction: 'recvonly' });
    this.pc.onTrack.subscribe((track) => {
      track.onReceiveRtp.subscribe((rtp) => {
        if (track.kind === 'video') {
          this.videoPackets++;
          this.videoSeqs.push(rtp.header.sequenceNumber);
          this.ssrcs.add(rtp.header.ssrc);
          this.firstVideoPayload ??= Buffer.from(rtp.payload);
          if (rtp.payload[1] === 0 && (rtp.payload[0]! & 0x10) !== 0) this.keyframes++;
        } else this.audioPackets++;
      });
    });
  }

  async offer(): Promise<string> {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    return gatheredSdp(this.pc);
  }

  async play(base: string, room: string, token?: string): Promise<WhipResult> {
    const res = await postOffer(`${base}/api/whep/play/${room}`, await this.offer(), token);
    if (res.status === 201) {
      this.location = res.location;
      await this.pc.setRemoteDescription({ type: 'answer', sdp: res.body });
    }
    return res;
  }

  async close(): Promise<void> {
    await this.pc.close();
  }
}

export { RTCRtpCodecParameters };
