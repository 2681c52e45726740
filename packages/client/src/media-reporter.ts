import {
  IceCandidateType,
  type IceFailureReason,
  MAX_JOIN_SECONDS,
  MAX_REPORTED_CONNECTIONS,
  MAX_REPORTED_FREEZES,
  type MediaReport,
  type MediaReportKind,
} from '@fusionflow/protocol';
import type { StatsSample } from './connection-quality.js';

export interface MediaReporterOptions {
  kind: MediaReportKind;
  /** Sends a report (`final`: the session ended, the page may be going away: send it with `keepalive`). */
  send(report: MediaReport, final: boolean): void;
  /** A freeze: no new video frame for this long while video is expected (default 1000 ms). */
  freezeMs?: number;
  now?: () => number;
}

/** What the reporter remembers of one connection (one RTCPeerConnection). */
interface ConnectionTrack {
  counted: boolean;
  frames: number;
  progressAt: number;
  frozen: boolean;
}

const now = () => (globalThis.performance?.now?.() ?? Date.now()) as number;

/**
 * One call or watch session's media report (see `MediaReport`): the join time (from `start`, the click on Join or the
 * player starting, to the first video frame decoded on any connection), the local candidate type each connection
 * chose, ICE failures and freezes. It is fed the connections' stats samples (`observe`) and ICE failures; it sends
 * what it has when the first frame is decoded and the rest at `end`, so each fact is reported exactly once (two
 * reports a session, one if it never played).
 */
export class MediaReporter {
  readonly #o: MediaReporterOptions;
  readonly #now: () => number;
  readonly #connections = new WeakMap<object, ConnectionTrack>();
  #startedAt: number | undefined;
  #joined = false;
  #joinSeconds: number | undefined;
  #candidateTypes: Partial<Record<IceCandidateType, number>> = {};
  #iceFailures: Partial<Record<IceFailureReason, number>> = {};
  #freezes = 0;
  #ended = false;

  constructor(options: MediaReporterOptions) {
    this.#o = options;
    this.#now = options.now ?? now;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** The user asked to join (or the player started): the join clock starts. Only the first call counts. */
  start(at = this.#now()): void {
    this.#startedAt ??= at;
  }

  /**
   * Start the join clock again, until the session has joined (a player told that nobody publishes yet: the wait for
   * the streamer is no join time).
   */
  restartJoinClock(at = this.#now()): void {
    if (!this.#joined) this.#startedAt = at;
  }

  /** A connection's latest stats sample (`connection`: anything that stands for it, e.g. its RTCPeerConnection). */
  observe(connection: object, sample: StatsSample, expectVideo: boolean): void {
    if (this.#ended) return;
    // A stack that decodes nothing (werift in Node) counts video packets instead.
    const frames = sample.decodesFrames ? sample.framesDecoded : sample.videoPackets;
    let track = this.#connections.get(connection);
    if (!track) {
      track = { counted: false, frames, progressAt: sample.at, frozen: false };
      this.#connections.set(connection, track);
    }
    const type = IceCandidateType.safeParse(sample.localCandidateType);
    if (!track.counted && type.success) {
      track.counted = true;
      this.#candidateTypes[type.data] = (this.#candidateTypes[type.data] ?? 0) + 1;
    }
    if (frames > track.frames || !expectVideo || frames === 0) {
      // Frames came (or none were expected, or none ever came: that is a join not done yet, not a freeze).
      track.frozen = false;
      track.frames = frames;
      track.progressAt = sample.at;
    } else if (!track.frozen && sample.at - track.progressAt >= (this.#o.freezeMs ?? 1000)) {
      track.frozen = true;
      this.#freezes += 1;
    }
    if (!this.#joined && frames > 0) {
      this.#joined = true;
      if (this.#startedAt !== undefined) {
        const seconds = Math.round(sample.at - this.#startedAt) / 1000;
        // A clock gone wrong (a suspended tab) is no join time: it is left out rather than sent.
        if (seconds > 0 && seconds <= MAX_JOIN_SECONDS) this.#joinSeconds = seconds;
      }
      this.#send(false);
    }
  }

  /** ICE let a connection down. */
  iceFailure(reason: IceFailureReason): void {
    if (this.#ended) return;
    this.#iceFailures[reason] = (this.#iceFailures[reason] ?? 0) + 1;
  }

  /** The session is over (left, the page hidden or closed): send what is not reported yet. Idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#send(true);
    this.#ended = true;
  }

  /** What is not reported yet, taken (null when there is nothing). */
  #take(): MediaReport | null {
    const report: MediaReport = { kind: this.#o.kind };
    if (this.#joinSeconds !== undefined) report.joinSeconds = this.#joinSeconds;
    const cap = (counts: Partial<Record<string, number>>) =>
      Object.fromEntries(Object.entries(counts).map(([k, n]) => [k, Math.min(n ?? 0, MAX_REPORTED_CONNECTIONS)]));
    if (Object.keys(this.#candidateTypes).length > 0) report.candidateTypes = cap(this.#candidateTypes);
    if (Object.keys(this.#iceFailures).length > 0) report.iceFailures = cap(this.#iceFailures);
    if (this.#freezes > 0) report.freezes = Math.min(this.#freezes, MAX_REPORTED_FREEZES);
    this.#joinSeconds = undefined;
    this.#candidateTypes = {};
    this.#iceFailures = {};
    this.#freezes = 0;
    return Object.keys(report).length > 1 ? report : null;
  }

  #send(final: boolean): void {
    const report = this.#take();
    if (!report) return;
    try {
      this.#o.send(report, final);
    } catch {
      // A report is worth a metric, never a failure of the call.
    }
  }
}
