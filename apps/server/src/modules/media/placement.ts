import { AppError, type Logger } from '@fusionflow/kit';
import {
  ErrorCode,
  type GrantRole,
  MEDIA_NODE_ID_PATTERN,
  type MediaAdminView,
  type MediaNodeView,
  type SfuNodeReport,
} from '@fusionflow/protocol';
import type { MediaDirectory, MediaNodeEntry } from './media-directory.js';

/** Where a session was placed: the node the grant names and the URL the forwarder sends it to. */
export interface PlacedNode {
  nodeId: string;
  url: string;
}

/** The id the one SFU the control plane runs or is told of (SFU_URL) has in GET /api/admin/media. */
export const STATIC_NODE_ID = 'default';

export interface PlacementOptions {
  directory: MediaDirectory;
  /** Retry-After of a viewer refused because the room's origin is full, draining or gone. */
  retryAfterSeconds: number;
  logger: Logger;
}

const usable = (n: MediaNodeEntry) => n.healthy && !n.report.draining;

/**
 * Placement: the control plane decides, when it issues a grant, which SFU node a media session
 * goes to (the media plane only executes the grant).
 *
 * - A publisher goes to the least-loaded healthy node that is not draining, which becomes the
 *   room's origin (a publisher coming back keeps its origin while that node is usable).
 * - A viewer goes to the room's origin. Relays between nodes do not exist yet (a later step of
 *   issue 17 adds them), so when the origin is full, draining or unhealthy the viewer is refused
 *   (`503 sfu_full` with Retry-After) instead of being placed where the stream is not.
 * - With no node reporting (the embedded SFU, or one SFU_URL that does not report), nothing is
 *   placed: grants carry the plain WHIP/WHEP URLs and the forwarder sends them to that one SFU, as
 *   before the directory existed.
 *
 * Reports lag by up to SFU_REPORT_INTERVAL_SECONDS, so sessions placed since a node's last report
 * count as load on it until its next one (this process's own placements; another control-plane
 * process sees them at that node's next report).
 */
export class Placement {
  readonly #pending = new Map<string, number>();

  constructor(private readonly o: PlacementOptions) {}

  get directory(): MediaDirectory {
    return this.o.directory;
  }

  /**
   * A node's report arrived: store it, and take the node as the origin of each room it says it has
   * the publisher of, unless the room's origin is another healthy node that says so too (a room
   * without an origin, an origin that went silent, or a publisher that came back elsewhere: the
   * directory follows where the publisher is).
   */
  async noteReport(report: SfuNodeReport): Promise<void> {
    await this.o.directory.upsert(report);
    this.#pending.delete(report.nodeId);
    const published = report.rooms.filter((r) => r.hasPublisher);
    if (published.length === 0) return;
    const origins = new Map((await this.o.directory.origins()).map((o) => [o.roomId, o.nodeId]));
    const others = new Map<string, MediaNodeEntry | undefined>();
    for (const { roomId } of published) {
      const current = origins.get(roomId);
      if (current === report.nodeId) continue;
      if (current !== undefined) {
        if (!others.has(current)) others.set(current, await this.o.directory.node(current));
        const other = others.get(current);
        const claims = other?.healthy && other.report.rooms.some((r) => r.roomId === roomId && r.hasPublisher);
        if (claims) continue;
      }
      await this.o.directory.setOrigin(roomId, report.nodeId);
    }
  }

  /** The node a grant for `role` in `roomId` names; undefined: no node reports (the one static SFU). */
  async place(roomId: string, role: GrantRole): Promise<PlacedNode | undefined> {
    const placed = role === 'publish' ? await this.#placePublisher(roomId, true) : await this.#placeViewer(roomId);
    if (placed) this.#pending.set(placed.nodeId, (this.#pending.get(placed.nodeId) ?? 0) + 1);
    return placed;
  }

  /**
   * Where a WHIP/WHEP request that names no node goes (an encoder's stream-key WHIP, with no single
   * SFU): as `place` would put it, but changing nothing, since nobody has checked the request yet.
   * An encoder's room takes its origin from the node's next report.
   */
  async route(roomId: string, role: GrantRole): Promise<PlacedNode | undefined> {
    return role === 'publish' ? this.#placePublisher(roomId, false) : this.#placeViewer(roomId);
  }

  async #placePublisher(roomId: string, commit: boolean): Promise<PlacedNode | undefined> {
    const nodes = await this.o.directory.nodes();
    const current = await this.o.directory.origin(roomId);
    const origin = current === undefined ? undefined : nodes.find((n) => n.report.nodeId === current);
    if (origin && usable(origin)) return placed(origin);
    const best = this.#leastLoaded(nodes.filter(usable));
    if (!best) {
      if (nodes.length === 0) return undefined;
      throw this.#refuse('every media node is draining or unreachable');
    }
    if (commit) {
      await this.o.directory.setOrigin(roomId, best.report.nodeId);
      this.o.logger.info({ roomId, nodeId: best.report.nodeId }, 'room origin placed');
    }
    return placed(best);
  }

  async #placeViewer(roomId: string): Promise<PlacedNode | undefined> {
    const originId = await this.o.directory.origin(roomId);
    if (originId === undefined) {
      // Nobody publishes yet (the viewer gets 409 no_publisher with Retry-After and retries): any usable node.
      const best = this.#leastLoaded((await this.o.directory.nodes()).filter(usable));
      return best ? placed(best) : undefined;
    }
    const origin = await this.o.directory.node(originId);
    // No relays yet: a viewer is only useful on the origin.
    if (!origin || !usable(origin)) throw this.#refuse("the stream's media node is draining or unreachable");
    const { maxViewers } = origin.report.capacity;
    if (maxViewers > 0 && origin.report.load.viewers + (this.#pending.get(originId) ?? 0) >= maxViewers) {
      throw this.#refuse('this stream is full');
    }
    return placed(origin);
  }

  #leastLoaded(nodes: MediaNodeEntry[]): MediaNodeEntry | undefined {
    const load = (n: MediaNodeEntry) => n.report.load.sessions + (this.#pending.get(n.report.nodeId) ?? 0);
    const full = (n: MediaNodeEntry) =>
      n.report.capacity.maxViewers > 0 && n.report.load.viewers >= n.report.capacity.maxViewers ? 1 : 0;
    return [...nodes].sort(
      (a, b) => full(a) - full(b) || load(a) - load(b) || (a.report.nodeId < b.report.nodeId ? -1 : 1),
    )[0];
  }

  #refuse(message: string): AppError {
    const seconds = this.o.retryAfterSeconds;
    return new AppError(ErrorCode.SfuFull, message, { retryAfterSeconds: seconds }, { 'retry-after': String(seconds) });
  }

  /** The URL of a node a grant named (draining and unhealthy nodes too: their sessions still end there). */
  async nodeUrl(nodeId: string): Promise<string | undefined> {
    if (!MEDIA_NODE_ID_PATTERN.test(nodeId)) return undefined;
    return (await this.o.directory.node(nodeId))?.report.url;
  }

  /** A live room ended: it has no origin any more. */
  async roomEnded(roomId: string): Promise<void> {
    await this.o.directory.clearOrigin(roomId);
  }

  /** GET /api/admin/media: every node (and the static SFU, when there is one), origins, relays (none yet). */
  async view(staticUrl: string | undefined): Promise<MediaAdminView> {
    const nodes: MediaNodeView[] = (await this.o.directory.nodes()).map((n) => ({
      nodeId: n.report.nodeId,
      url: n.report.url,
      draining: n.report.draining,
      healthy: n.healthy,
      source: 'report',
      lastSeen: new Date(n.lastSeenMs).toISOString(),
      capacity: n.report.capacity,
      load: n.report.load,
      rooms: n.report.rooms,
    }));
    if (staticUrl && !nodes.some((n) => n.url === staticUrl)) {
      nodes.unshift({
        nodeId: STATIC_NODE_ID,
        url: staticUrl,
        draining: false,
        healthy: true,
        source: 'static',
        lastSeen: null,
        capacity: null,
        load: null,
        rooms: [],
      });
    }
    return { nodes, origins: await this.o.directory.origins(), relays: [] };
  }
}

const placed = (n: MediaNodeEntry): PlacedNode => ({ nodeId: n.report.nodeId, url: n.report.url });
