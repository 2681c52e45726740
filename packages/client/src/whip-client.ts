import { type MediaSessionOptions, WhipWhepSession } from './whip-whep-session.js';

/** Publish a MediaStream over WHIP. */
export class WhipPublisher extends WhipWhepSession {
  constructor(
    o: MediaSessionOptions,
    readonly stream: MediaStream,
    /** Simulcast encodings for the video track (e.g. h/m/l), none by default. */
    readonly videoEncodings?: RTCRtpEncodingParameters[],
  ) {
    super(o);
  }

  async start(): Promise<this> {
    for (const track of this.stream.getTracks()) {
      const init: RTCRtpTransceiverInit = { direction: 'sendonly', streams: [this.stream] };
      if (track.kind === 'video' && this.videoEncodings) init.sendEncodings = this.videoEncodings;
      this.pc.addTransceiver(track, init);
    }
    await this.negotiate();
    return this;
  }
}
