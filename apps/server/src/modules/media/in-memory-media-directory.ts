import type { SfuNodeReport } from '@fusionflow/protocol';
import {
  type MediaDirectory,
  type MediaDirectoryOptions,
  type MediaNodeEntry,
  retentionOf,
} from './media-directory.js';

/** The media directory of one control-plane process (no REDIS_URL). */
export class InMemoryMediaDirectory implements MediaDirectory {
  readonly #nodes = new Map<string, { report: SfuNodeReport; lastSeenMs: number }>();
  readonly #origins = new Map<string, string>();
  readonly #now: () => number;
  readonly #retentionMs: number;

  constructor(private readonly o: MediaDirectoryOptions) {
    this.#now = o.now ?? Date.now;
    this.#retentionMs = retentionOf(o);
  }

  async upsert(report: SfuNodeReport): Promise<void> {
    this.#nodes.set(report.nodeId, { report, lastSeenMs: this.#now() });
  }

  async nodes(): Promise<MediaNodeEntry[]> {
    await this.expire();
    return [...this.#nodes.values()]
      .map((n) => this.#entry(n))
      .sort((a, b) => (a.report.nodeId < b.report.nodeId ? -1 : 1));
  }

  async node(nodeId: string): Promise<MediaNodeEntry | undefined> {
    await this.expire();
    const n = this.#nodes.get(nodeId);
    return n ? this.#entry(n) : undefined;
  }

  async origin(roomId: string): Promise<string | undefined> {
    return this.#origins.get(roomId);
  }

  async setOrigin(roomId: string, nodeId: string): Promise<void> {
    this.#origins.set(roomId, nodeId);
  }

  async clearOrigin(roomId: string, onlyIf?: string): Promise<void> {
    if (onlyIf === undefined || this.#origins.get(roomId) === onlyIf) this.#origins.delete(roomId);
  }

  async origins(): Promise<{ roomId: string; nodeId: string }[]> {
    return [...this.#origins]
      .map(([roomId, nodeId]) => ({ roomId, nodeId }))
      .sort((a, b) => (a.roomId < b.roomId ? -1 : 1));
  }

  async expire(): Promise<string[]> {
    const cutoff = this.#now() - this.#retentionMs;
    const gone: string[] = [];
    for (const [id, n] of this.#nodes) {
      if (n.lastSeenMs < cutoff) {
        this.#nodes.delete(id);
        gone.push(id);
      }
    }
    return gone;
  }

  #entry(n: { report: SfuNodeReport; lastSeenMs: number }): MediaNodeEntry {
    return { ...n, healthy: this.#now() - n.lastSeenMs <= this.o.ttlMs };
  }

  async close(): Promise<void> {
    this.#nodes.clear();
    this.#origins.clear();
  }
}
