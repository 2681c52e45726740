import { mkdir } from 'node:fs/promises';
import type { Logger } from '@fusionflow/kit';
import { asRoomId, type RecordingClaim, type RecordingReport } from '@fusionflow/protocol';
import type { PublisherSession } from '../session/publisher-session.js';
import { BroadcastRecorder } from './broadcast-recorder.js';
import { PublisherFeed, recordableVideoCodec } from './publisher-feed.js';

export interface BroadcastRecordingsOptions {
  /** RECORDINGS_DIR. */
  dir: string;
  /** PUBLISHER_GRACE_SECONDS in ms: how long a recording waits for its publisher to come back. */
  graceMs: number;
  logger: Logger;
  /** Each report of each recording (to the control plane). */
  report: (report: RecordingReport) => void;
  /** A recording is final and `ready` (the uploader moves it to S3). */
  onReady?: (report: RecordingReport) => void;
}

/**
 * Why a publisher session ended that may be a dropped transport (a reload, a network switch): the
 * recording waits for the publisher. Anything else (the streamer's Stop — WHIP DELETE —, a kick, the
 * room closed, the SFU shutting down) ends the broadcast and its recording at once.
 */
const TRANSPORT_LOSS = new Set(['ice_disconnected', 'ice_failed', 'closed', 'replaced']);

interface Active {
  room: string;
  /** Set right after the entry is made (the recorder asks its feed for a keyframe while it is built). */
  recorder: BroadcastRecorder;
  feed: PublisherFeed | undefined;
  grace: NodeJS.Timeout | undefined;
}

/**
 * The SFU's recordings in progress, by recording id (the control plane names one per broadcast in
 * the publisher's grant, `rec`). A publisher session with a claim gets a recorder, or continues the
 * one its claim names when it comes back within the grace period (same file). It owns every
 * recorder: `close()` finalises them all (the SFU shutting down still leaves playable files).
 */
export class BroadcastRecordings {
  readonly #active = new Map<string, Active>();
  readonly #finishing = new Set<Promise<unknown>>();
  #dirReady: Promise<unknown> | undefined;
  #closed = false;

  constructor(private readonly o: BroadcastRecordingsOptions) {}

  get size(): number {
    return this.#active.size;
  }

  /** The recorder of a recording in progress (tests, admin). */
  recorder(id: string): BroadcastRecorder | undefined {
    return this.#active.get(id)?.recorder;
  }

  /** A publisher session has answered its offer: record it if its grant says so. */
  async attach(room: string, session: PublisherSession, claim: RecordingClaim | undefined): Promise<void> {
    if (!claim || this.#closed || session.closed) return;
    const log = this.o.logger.child({ recording: claim.id, roomId: room });
    let active = this.#active.get(claim.id);
    if (active && active.room !== room) {
      log.warn({ other: active.room }, 'a recording of another room has this id: not recorded');
      return;
    }
    if (active) {
      clearTimeout(active.grace);
      active.grace = undefined;
      active.feed?.close();
      active.recorder.resume();
      log.info('publisher back: the recording goes on');
    } else {
      this.#dirReady ??= mkdir(this.o.dir, { recursive: true });
      await this.#dirReady;
      if (this.#closed || session.closed) return;
      const video = session.tracks.find((t) => t.kind === 'video');
      const created: Active = { room, feed: undefined, grace: undefined, recorder: undefined as never };
      created.recorder = new BroadcastRecorder({
        claim,
        room: asRoomId(room),
        dir: this.o.dir,
        log,
        videoCodec: (video && recordableVideoCodec(video)) ?? 'vp8',
        requestKeyframe: () => created.feed?.requestKeyframe(),
        report: (r) => this.o.report(r),
      });
      active = created;
      this.#active.set(claim.id, active);
    }
    const current = active;
    current.feed = new PublisherFeed(session, current.recorder, log);
    session.on('close', ({ reason }) => this.#publisherLeft(claim.id, current, session, reason));
  }

  #publisherLeft(id: string, active: Active, session: PublisherSession, reason: string): void {
    if (active.feed?.session !== session || this.#active.get(id) !== active) return;
    active.feed.close();
    active.feed = undefined;
    if (TRANSPORT_LOSS.has(reason) && this.o.graceMs > 0 && !this.#closed) {
      active.grace = setTimeout(() => this.#end(id), this.o.graceMs);
      this.o.logger.info({ recording: id, reason, graceMs: this.o.graceMs }, 'publisher lost: the recording waits');
    } else {
      this.#end(id);
    }
  }

  #end(id: string): Promise<unknown> {
    const active = this.#active.get(id);
    if (!active) return Promise.resolve();
    this.#active.delete(id);
    clearTimeout(active.grace);
    active.feed?.close();
    const done = active.recorder.close().then(
      (report) => {
        if (report.status === 'ready') this.o.onReady?.(report);
      },
      (err: unknown) => this.o.logger.error({ err, recording: id }, 'recording could not be closed'),
    );
    this.#finishing.add(done);
    void done.finally(() => this.#finishing.delete(done));
    return done;
  }

  /** Finalise every recording (each reports `ready` or `failed`). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...[...this.#active.keys()].map((id) => this.#end(id)), ...this.#finishing]);
  }
}
