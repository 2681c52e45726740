import { AppError, Emitter, type Logger } from '@fusionflow/kit';
import { ErrorCode, type SfuDrainResponse } from '@fusionflow/protocol';

export type DrainEnd = 'empty' | 'deadline';

export interface NodeDrainOptions {
  /** Sessions (publishers and viewers) the node holds now. */
  sessions: () => number;
  /** Retry-After of a session refused while draining. */
  retryAfterSeconds: number;
  /** How often to look whether the node is empty. */
  pollMs?: number;
  logger: Logger;
}

/**
 * Draining a node (the operator's `POST /api/admin/drain`, or SIGUSR2): from then on the node takes
 * no new WHIP/WHEP session (`503 sfu_draining` with `Retry-After`; the control plane's placement
 * skips it too, from the node's next report), and when its last session ends, or at the deadline,
 * it says `done` once: its owner (bin.ts) closes the node as on SIGTERM. Sessions already running
 * are left alone: their viewers move when they reconnect (with a new grant, placed elsewhere).
 */
export class NodeDrain extends Emitter<{ done: DrainEnd }> {
  #draining = false;
  #done = false;
  #closed = false;
  #deadlineAt: number | undefined;
  #poll: NodeJS.Timeout | undefined;
  #deadline: NodeJS.Timeout | undefined;

  constructor(private readonly o: NodeDrainOptions) {
    super((err, event) => o.logger.error({ err, event }, 'drain listener failed'));
  }

  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Start draining (idempotent; a later call may bring the deadline closer, never further away).
   * `deadlineSeconds` 0 or undefined: no deadline, exit only when empty.
   */
  start(deadlineSeconds?: number): SfuDrainResponse {
    if (this.#closed) return this.status();
    if (deadlineSeconds) {
      const at = Date.now() + deadlineSeconds * 1000;
      if (this.#deadlineAt === undefined || at < this.#deadlineAt) {
        this.#deadlineAt = at;
        clearTimeout(this.#deadline);
        this.#deadline = setTimeout(() => this.#finish('deadline'), deadlineSeconds * 1000);
        this.#deadline.unref();
      }
    }
    if (!this.#draining) {
      this.#draining = true;
      this.o.logger.warn(
        { sessions: this.o.sessions(), deadline: this.#deadlineIso() },
        'draining: no new sessions; exiting when the last one ends',
      );
      this.#poll = setInterval(() => this.#check(), this.o.pollMs ?? 500);
      this.#poll.unref();
      queueMicrotask(() => this.#check());
    }
    return this.status();
  }

  status(): SfuDrainResponse {
    return { draining: this.#draining, sessions: this.o.sessions(), deadline: this.#deadlineIso() };
  }

  /** Refuse a new session while draining (the WHIP/WHEP POST's admission check). */
  refuseIfDraining(): void {
    if (!this.#draining) return;
    throw new AppError(
      ErrorCode.SfuDraining,
      'this media node is draining; get a new grant and try again',
      { retryAfterSeconds: this.o.retryAfterSeconds },
      { 'retry-after': String(this.o.retryAfterSeconds) },
    );
  }

  #check(): void {
    if (this.#draining && !this.#done && this.o.sessions() === 0) this.#finish('empty');
  }

  #finish(end: DrainEnd): void {
    if (this.#done || this.#closed) return;
    this.#done = true;
    this.#stopTimers();
    this.o.logger.warn({ end, sessions: this.o.sessions() }, 'drained');
    this.emit('done', end);
  }

  #deadlineIso(): string | null {
    return this.#deadlineAt === undefined ? null : new Date(this.#deadlineAt).toISOString();
  }

  #stopTimers(): void {
    clearInterval(this.#poll);
    clearTimeout(this.#deadline);
  }

  close(): void {
    this.#closed = true;
    this.#stopTimers();
  }
}
