import type { SfuNodeReport } from '@fusionflow/protocol';

/** A node as the directory knows it: its last report and when that arrived. */
export interface MediaNodeEntry {
  report: SfuNodeReport;
  /** When the last report arrived (the control plane's clock, ms). */
  lastSeenMs: number;
  /** Heard from within the directory's TTL; placement never uses an unhealthy node. */
  healthy: boolean;
}

export interface MediaDirectoryOptions {
  /** A node not heard from for this long is unhealthy (MEDIA_NODE_TTL_SECONDS). */
  ttlMs: number;
  /** A node not heard from for this long is forgotten altogether (default: 10 × ttlMs). */
  retentionMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

/**
 * The control plane's media directory: SFU nodes (their reports: URL, capacity, load, rooms,
 * draining) and the origin node of each live room. In memory for one control-plane process,
 * Redis (keys with a TTL) when REDIS_URL is set, so every control-plane process places sessions on
 * the same picture. One contract test suite runs against both (media-directory.test.ts).
 */
export interface MediaDirectory {
  /** Store a node's report (replacing its previous one); it is healthy from now until the TTL. */
  upsert(report: SfuNodeReport): Promise<void>;
  /** Every node heard from within the retention, by id; `healthy` says whether within the TTL. */
  nodes(): Promise<MediaNodeEntry[]>;
  node(nodeId: string): Promise<MediaNodeEntry | undefined>;
  /** The node a live room's publisher was placed on, if any. */
  origin(roomId: string): Promise<string | undefined>;
  setOrigin(roomId: string, nodeId: string): Promise<void>;
  /** Forget a room's origin (the room ended); with `onlyIf`, only while it is still that node. */
  clearOrigin(roomId: string, onlyIf?: string): Promise<void>;
  /** Every room with an origin. */
  origins(): Promise<{ roomId: string; nodeId: string }[]>;
  /** Forget nodes not heard from within the retention; resolves to their ids. */
  expire(): Promise<string[]>;
  close(): Promise<void>;
}

/** The retention of a directory's options. */
export const retentionOf = (o: MediaDirectoryOptions): number => o.retentionMs ?? o.ttlMs * 10;
