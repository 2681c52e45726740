import { errorOfResponse } from './fusionflow-error.js';
import { type MediaSessionOptions, WhipWhepSession } from './whip-whep-session.js';

/** Play a room over WHEP: `stream` fills with the publisher's audio and video. */
export class WhepPlayer extends WhipWhepSession {
  readonly stream: MediaStream | undefined;
  readonly #tracks: MediaStreamTrack[] = [];

  constructor(o: MediaSessionOptions) {
    super(o);
    this.stream = typeof MediaStream === 'undefined' ? undefined : new MediaStream();
    this.pc.addEventListener('track', (e) => {
      const track = (e as RTCTrackEvent).track;
      this.#tracks.push(track);
      this.stream?.addTrack(track);
      this.emit('track', track);
    });
  }

  get tracks(): readonly MediaStreamTrack[] {
    return this.#tracks;
  }

  async start(): Promise<this> {
    this.pc.addTransceiver('video', { direction: 'recvonly' });
    this.pc.addTransceiver('audio', { direction: 'recvonly' });
    await this.negotiate();
    return this;
  }

  /** Ask for a simulcast layer (rid), or null to follow the bandwidth estimate. */
  async selectLayer(rid: string | null): Promise<void> {
    if (!this.location) return;
    const response = await this.request(`${this.location}/layer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rid }),
    });
    if (!response.ok) throw await errorOfResponse(response);
  }
}
