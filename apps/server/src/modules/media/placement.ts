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

/**
 * A placed session, and for a viewer put on a node that is not the room's origin (an edge), the origin it is fed
 * from: the grant carries it as the `relay` claim and the edge opens (or reuses) one relay of the room from there.
 */
export type Placed = PlacedNode & { relayFrom?: PlacedNode };

/** The id the one SFU the control plane runs or is told of (SFU_URL) has in GET /api/admin/media. */
export const STATIC_NODE_ID = 'default';

export interface PlacementOptions {
  directory: MediaDirectory;
  /** Retry-After of a viewer refused because the room's origin is full, draining or gone. */
  retryAfterSeconds: number;
  /**
   * SFU_ORIGIN_MAX_VIEWERS: the most viewers of a room placed on its origin while another usable node has room
   * (0: no limit). The origin's event loop stays free for the publisher's transport.
   */
  originMaxViewers: number;
  logger: Logger;
}

const usable = (n: MediaNodeEntry) => n.healthy && !n.report.draining;

/**
 * Placement: the control plane decides, when it issues a grant, which SFU node a media session
 * goes to (the media plane only executes the grant).
 *
 * - A publisher goes to the least-loaded healthy node that is not draining, which becomes the
 *   room's origin (a publisher coming back keeps its origin while that node is usable).
 * - A viewer goes, in this order, to: (a) the room's origin while it holds fewer than `originMaxViewers` viewers
 *   of the room (0: no limit) and has room; (b) a usable node that already relays the room from the origin (its
 *   report says `relayFrom`, or viewers of the room were placed there since its last report) and has room: the
 *   one with the most free room, so a room's viewers stay together and relays stay few; (c) the least-loaded
 *   usable node with room, which opens a new relay; (d) the origin again if it has room (over its limit beats
 *   refusing); (e) else `503 sfu_full` with Retry-After. An origin that is draining, unhealthy or gone refuses
 *   too (the stream is nowhere to relay from). A viewer placed off the origin carries `relayFrom`.
 * - With no node reporting (the embedded SFU, or one SFU_URL that does not report), nothing is
 *   placed: grants carry the plain WHIP/WHEP URLs and the forwarder sends them to that one SFU, as
 *   before the directory existed.
 *
 * Reports lag by up to SFU_REPORT_INTERVAL_SECONDS, so sessions placed since a node's last report
 * count as load on it until its next one, per node and, for viewers, per (node, room) (this process's
 * own placements; another control-plane process sees them at that node's next report).
 */
export class Placement {
  /** Sessions placed on a node since its last report. */
  readonly #pending = new Map<string, number>();
  /** Viewers placed on a node since its last report, by room. */
  readonly #pendingViewers = new Map<string, Map<string, number>>();

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
    this.#pendingViewers.delete(report.nodeId);
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
  async place(roomId: string, role: GrantRole): Promise<Placed | undefined> {
    const placed =
      role === 'publish' ? await this.#placePublisher(roomId, true) : await this.#placeViewer(roomId, true);
    if (!placed) return undefined;
    this.#pending.set(placed.nodeId, (this.#pending.get(placed.nodeId) ?? 0) + 1);
    if (role === 'subscribe') {
      const rooms = this.#pendingViewers.get(placed.nodeId) ?? new Map<string, number>();
      this.#pendingViewers.set(placed.nodeId, rooms);
      rooms.set(roomId, (rooms.get(roomId) ?? 0) + 1);
    }
    return placed;
  }

  /**
   * Where a WHIP/WHEP request that names no node goes (an encoder's stream-key WHIP, with no single
   * SFU): as `place` would put it, but changing nothing, since nobody has checked the request yet.
   * An encoder's room takes its origin from the node's next report. A viewer's request that names no
   * node carries a grant without a `relay` claim, which only the origin can serve: it goes there
   * (over SFU_ORIGIN_MAX_VIEWERS if need be), never to an edge.
   */
  async route(roomId: string, role: GrantRole): Promise<Placed | undefined> {
    return role === 'publish' ? this.#placePublisher(roomId, false) : this.#placeViewer(roomId, false);
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

  /** `relays`: the viewer may go to an edge (its grant will carry the `relay` claim). */
  async #placeViewer(roomId: string, relays: boolean): Promise<Placed | undefined> {
    const originId = await this.o.directory.origin(roomId);
    const nodes = await this.o.directory.nodes();
    if (originId === undefined) {
      // Nobody publishes yet (the viewer gets 409 no_publisher with Retry-After and retries): any usable node.
      const best = this.#leastLoaded(nodes.filter(usable));
      return best ? placed(best) : undefined;
    }
    const origin = nodes.find((n) => n.report.nodeId === originId);
    // Nothing to relay from: the viewer waits for the publisher to come back on a usable node.
    if (!origin || !usable(origin)) throw this.#refuse("the stream's media node is draining or unreachable");
    const limit = relays ? this.o.originMaxViewers : 0;
    // (a) The origin, under its limit of the room's viewers.
    if ((limit === 0 || this.#roomViewers(origin, roomId) < limit) && this.#free(origin) > 0) return placed(origin);
    const edges = relays ? nodes.filter((n) => n.report.nodeId !== originId && usable(n) && this.#free(n) > 0) : [];
    const viaEdge = (edge: MediaNodeEntry): Placed => ({ ...placed(edge), relayFrom: placed(origin) });
    // (b) An edge that already relays the room: the one with the most free room.
    const relaying = edges
      .filter((n) => this.#relays(n, roomId, originId))
      .sort((a, b) => this.#free(b) - this.#free(a) || byId(a, b));
    if (relaying[0]) return viaEdge(relaying[0]);
    // (c) The least-loaded edge with room: it opens a new relay.
    const fresh = this.#leastLoaded(edges);
    if (fresh) return viaEdge(fresh);
    // (d) The origin over its limit beats refusing.
    if (this.#free(origin) > 0) return placed(origin);
    throw this.#refuse('this stream is full');
  }

  /** Viewers placed on a node since its last report (all rooms, or one room's). */
  #pendingViewersOf(nodeId: string, roomId?: string): number {
    const rooms = this.#pendingViewers.get(nodeId);
    if (!rooms) return 0;
    if (roomId !== undefined) return rooms.get(roomId) ?? 0;
    let sum = 0;
    for (const n of rooms.values()) sum += n;
    return sum;
  }

  /** A room's viewers on a node: its last report's, plus those placed there since. */
  #roomViewers(n: MediaNodeEntry, roomId: string): number {
    const reported = n.report.rooms.find((r) => r.roomId === roomId)?.viewers ?? 0;
    return reported + this.#pendingViewersOf(n.report.nodeId, roomId);
  }

  /** How many more viewers a node takes (Infinity: SFU_MAX_VIEWERS 0, no limit). */
  #free(n: MediaNodeEntry): number {
    const { maxViewers } = n.report.capacity;
    if (maxViewers === 0) return Number.POSITIVE_INFINITY;
    return maxViewers - n.report.load.viewers - this.#pendingViewersOf(n.report.nodeId);
  }

  /** The node relays the room from its origin already (its report says so), or will (viewers placed there since). */
  #relays(n: MediaNodeEntry, roomId: string, originId: string): boolean {
    return (
      n.report.rooms.some((r) => r.roomId === roomId && r.relayFrom === originId) ||
      this.#pendingViewersOf(n.report.nodeId, roomId) > 0
    );
  }

  #leastLoaded(nodes: MediaNodeEntry[]): MediaNodeEntry | undefined {
    const load = (n: MediaNodeEntry) => n.report.load.sessions + (this.#pending.get(n.report.nodeId) ?? 0);
    const full = (n: MediaNodeEntry) => (this.#free(n) > 0 ? 0 : 1);
    return [...nodes].sort((a, b) => full(a) - full(b) || load(a) - load(b) || byId(a, b))[0];
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

  /**
   * GET /api/admin/media: every node (and the static SFU, when there is one), origins, and the relays healthy nodes
   * report (a room they have with `relayFrom`: from that origin to them).
   */
  async view(staticUrl: string | undefined): Promise<MediaAdminView> {
    const entries = await this.o.directory.nodes();
    const relays = entries
      .filter((n) => n.healthy)
      .flatMap((n) =>
        n.report.rooms.flatMap((r) =>
          r.relayFrom === undefined ? [] : [{ roomId: r.roomId, from: r.relayFrom, to: n.report.nodeId }],
        ),
      );
    const nodes: MediaNodeView[] = entries.map((n) => ({
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
    return { nodes, origins: await this.o.directory.origins(), relays };
  }
}

const placed = (n: MediaNodeEntry): PlacedNode => ({ nodeId: n.report.nodeId, url: n.report.url });
const byId = (a: MediaNodeEntry, b: MediaNodeEntry) => (a.report.nodeId < b.report.nodeId ? -1 : 1);
