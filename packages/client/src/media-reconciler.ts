import type { ReplayReason } from '@fusionflow/protocol';

/**
 * Reconciliation states (seed 001): `connected` (transport up, no expected media flowing yet, or
 * none expected), `live-media` (everything the server expects from the peer is arriving),
 * `replay-requested` (expected media is missing, or unexpected media arrives; a replay was asked
 * for and the client waits for it to work).
 */
export type ReconcileState = 'connected' | 'live-media' | 'replay-requested';

export interface MediaExpectation {
  audio: boolean;
  video: boolean;
}

/** One look at what actually arrives from a peer (cumulative counters from `getStats()`). */
export interface MediaSample {
  /** Milliseconds, monotonic. */
  now: number;
  expected: MediaExpectation;
  /** Video frames decoded (packets where no decoder counts frames) and audio packets received so far. */
  counters: { video: number; audio: number };
  /** The peer connection's transport is up (`connectionState === 'connected'`). */
  transportConnected: boolean;
}

export interface ReconcileOptions {
  /** Expected media missing (or unexpected media arriving) this long triggers a replay request. */
  missingMs?: number;
  /** A replay that has not worked after this long (times the attempt) is asked for again. */
  retryMs?: number;
  /** Replays asked for in a row before giving up until something changes. */
  maxAttempts?: number;
}

export type ReconcileOutcome = {
  /** States entered by this sample, in order (empty when nothing changed). */
  transitions: ReconcileState[];
  /** Ask the server for a replay, for this reason. */
  replay?: ReplayReason;
};

type Kind = 'audio' | 'video';
const KINDS: Kind[] = ['audio', 'video'];

/**
 * The reconciliation state machine for one remote peer: Connected → LiveMedia → ReplayRequested →
 * Connected. It compares the server's expected media state with frames actually arriving (counters
 * that must keep rising), never with timers alone: a replay is requested only when expected media
 * has not arrived for `missingMs` while the transport is up. Pure: feed it samples, act on the
 * outcome (CallClient sends the `replay-request`).
 */
export class MediaReconciler {
  #state: ReconcileState = 'connected';
  readonly #missingMs: number;
  readonly #retryMs: number;
  readonly #maxAttempts: number;
  #last: { video: number; audio: number } | undefined;
  #lastExpected: MediaExpectation = { audio: false, video: false };
  /** When each kind last arrived (frames rose), or when it became expected / the transport came up. */
  readonly #since: Record<Kind, number> = { audio: 0, video: 0 };
  readonly #lastProgress: Record<Kind, number> = { audio: -Infinity, video: -Infinity };
  #unexpectedSince: number | undefined;
  #transportUpAt: number | undefined;
  #requestedAt = 0;
  #attempts = 0;

  constructor(options: ReconcileOptions = {}) {
    this.#missingMs = options.missingMs ?? 2000;
    this.#retryMs = options.retryMs ?? 3000;
    this.#maxAttempts = options.maxAttempts ?? 5;
  }

  get state(): ReconcileState {
    return this.#state;
  }

  /** Replays asked for since media last flowed as expected. */
  get attempts(): number {
    return this.#attempts;
  }

  /**
   * A new peer connection replaced the old one: its counters start from zero and nothing has
   * arrived on it yet. Returns true when this left `live-media` or `replay-requested`.
   */
  reset(): boolean {
    const changed = this.#state !== 'connected';
    this.#state = 'connected';
    this.#last = undefined;
    this.#lastProgress.audio = -Infinity;
    this.#lastProgress.video = -Infinity;
    this.#transportUpAt = undefined;
    this.#unexpectedSince = undefined;
    this.#attempts = 0;
    return changed;
  }

  sample(s: MediaSample): ReconcileOutcome {
    const progressed: Record<Kind, boolean> = { audio: false, video: false };
    for (const kind of KINDS) {
      const before = this.#last?.[kind];
      progressed[kind] = before !== undefined && s.counters[kind] > before;
      if (progressed[kind]) this.#lastProgress[kind] = s.now;
      if (s.expected[kind] && !this.#lastExpected[kind]) this.#since[kind] = s.now;
    }
    this.#last = { ...s.counters };
    this.#lastExpected = { ...s.expected };
    if (!s.transportConnected) {
      // Transport problems are ICE's to solve (restart); media cannot be judged meanwhile.
      this.#transportUpAt = undefined;
      this.#unexpectedSince = undefined;
      return { transitions: [] };
    }
    this.#transportUpAt ??= s.now;

    const missing = KINDS.some(
      (kind) =>
        s.expected[kind] &&
        s.now - Math.max(this.#lastProgress[kind], this.#since[kind], this.#transportUpAt!) >= this.#missingMs,
    );
    // Video frames while the server says the camera is off: this side's expectation is stale.
    if (!s.expected.video && progressed.video) this.#unexpectedSince ??= s.now;
    else if (!progressed.video || s.expected.video) this.#unexpectedSince = undefined;
    const unexpected = this.#unexpectedSince !== undefined && s.now - this.#unexpectedSince >= this.#missingMs;

    const transitions: ReconcileState[] = [];
    const enter = (state: ReconcileState) => {
      if (this.#state !== state) {
        this.#state = state;
        transitions.push(state);
      }
    };
    if (missing || unexpected) {
      const reason: ReplayReason = missing ? 'media-missing' : 'state-mismatch';
      if (this.#state !== 'replay-requested') {
        enter('replay-requested');
        this.#attempts = 1;
        this.#requestedAt = s.now;
        return { transitions, replay: reason };
      }
      if (this.#attempts < this.#maxAttempts && s.now - this.#requestedAt >= this.#retryMs * this.#attempts) {
        this.#attempts += 1;
        this.#requestedAt = s.now;
        return { transitions, replay: reason };
      }
      return { transitions };
    }
    // Nothing missing: a replay that was pending worked.
    if (this.#state === 'replay-requested') enter('connected');
    this.#attempts = 0;
    const expectedKinds = KINDS.filter((kind) => s.expected[kind]);
    // Live only on frames that arrived after the media became expected (not the tail of an earlier stream).
    const flowing =
      expectedKinds.length > 0 &&
      expectedKinds.every(
        (kind) => this.#lastProgress[kind] > this.#since[kind] && s.now - this.#lastProgress[kind] < this.#missingMs,
      );
    if (flowing) enter('live-media');
    else if (expectedKinds.length === 0) enter('connected');
    return { transitions };
  }
}
