import { randomBytes } from 'node:crypto';
import { badRequest, conflict, Emitter, forbidden, type Logger, logListenerErrors, notFound } from '@fusionflow/kit';
import {
  asRoomId,
  asUserId,
  type BroadcastSummary,
  type CreateRoomRequest,
  ErrorCode,
  type ListRoomsQuery,
  type ListRoomsResponse,
  type Room,
  type RoomId,
  type RoomStatus,
  type UpdateRoomRequest,
} from '@fusionflow/protocol';
import { type Kysely, type Selectable, sql } from 'kysely';
import { isUniqueViolation } from '../../db/database.js';
import type { Database, RoomsTable } from '../../db/schema.js';
import type { AuditLog } from '../governance/audit-log.js';
import type { Session } from '../identity/access-tokens.js';
import { broadcastSummary } from './broadcast-summary.js';

type RoomWithOwner = Selectable<RoomsTable> & { owner_name: string; owner_handle: string };

function toRoom(row: RoomWithOwner): Room {
  return {
    id: asRoomId(row.id),
    kind: row.kind,
    title: row.title,
    status: row.status,
    ownerId: asUserId(row.owner_id),
    ownerName: row.owner_name,
    ownerHandle: row.owner_handle,
    ticketPrice: row.ticket_price,
    pricePerMinute: row.price_per_minute,
    record: row.kind === 'live' && row.record,
    viewerCount: row.viewer_count,
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at ? new Date(row.started_at).toISOString() : null,
    endedAt: row.ended_at ? new Date(row.ended_at).toISOString() : null,
  };
}

/**
 * Viewer·seconds since the integral was last brought up to date: the current count times the time
 * since `viewers_at`, while live (never negative); 0 otherwise. An SQL expression over the row.
 */
function elapsedViewerSeconds(now: Date) {
  return sql<number>`(case when status = 'live' and viewers_at is not null
    then viewer_count * greatest(0, extract(epoch from (${now}::timestamptz - viewers_at)))::float8
    else 0 end)`;
}

const BROADCASTER_ROLES = new Set(['streamer', 'studio', 'admin']);

/** Cursor for keyset pagination over (created_at desc, id desc). */
function encodeCursor(row: RoomWithOwner): string {
  return Buffer.from(JSON.stringify([row.created_at.toISOString(), row.id])).toString('base64url');
}
function decodeCursor(cursor: string): [Date, string] {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    const date = new Date(String(at));
    if (typeof id !== 'string' || Number.isNaN(date.getTime())) throw new Error('bad cursor');
    return [date, id];
  } catch {
    throw badRequest('cursor is not one this server gave out');
  }
}

export interface RoomEvents {
  [event: string]: unknown;
  /** A room changed status (e.g. it ended, so its call members leave); listeners are awaited in turn. */
  status: Room;
  /** A room's settings changed (title, prices) on this process. */
  update: Room;
}

/**
 * Rooms and their lifecycle: created → live → ended. Live rooms are broadcasts (one publisher,
 * many viewers through the SFU); call rooms are peer-to-peer calls of up to four people.
 */
export class RoomService extends Emitter<RoomEvents> {
  readonly #endReasons = new Map<RoomId, string>();
  readonly #now: () => Date;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly logger: Logger,
    private readonly audit?: AuditLog,
    /** Tests: the clock that stamps going live, ending and viewer-count changes. */
    options: { now?: () => Date } = {},
  ) {
    super(logListenerErrors(logger));
    this.#now = options.now ?? (() => new Date());
  }

  #select() {
    return this.db
      .selectFrom('rooms')
      .innerJoin('users', 'users.id', 'rooms.owner_id')
      .selectAll('rooms')
      .select(['users.display_name as owner_name', 'users.handle as owner_handle']);
  }

  async create(owner: Session, input: CreateRoomRequest): Promise<Room> {
    if (owner.isGuest) throw forbidden('sign in to create a room');
    if (input.kind === 'live' && !BROADCASTER_ROLES.has(owner.role)) {
      throw forbidden('only streamers can create live rooms; ask an admin for the streamer role');
    }
    if (input.pricePerMinute !== undefined && !BROADCASTER_ROLES.has(owner.role)) {
      throw forbidden('only streamers can charge for calls');
    }
    const id = input.id ?? randomBytes(9).toString('base64url');
    try {
      await this.db
        .insertInto('rooms')
        .values({
          id,
          owner_id: owner.userId,
          kind: input.kind,
          title: input.title,
          status: 'created',
          ticket_price: input.ticketPrice ?? null,
          price_per_minute: input.pricePerMinute ?? null,
          record: input.kind === 'live' ? (input.record ?? true) : false,
          // Millisecond precision, like the page cursor that carries it (PostgreSQL keeps microseconds).
          created_at: new Date(),
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict(`a room with id ${id} already exists`, ErrorCode.RoomIdTaken);
      throw err;
    }
    this.logger.info({ roomId: id, ownerId: owner.userId, kind: input.kind }, 'room created');
    return this.get(asRoomId(id));
  }

  async get(id: RoomId): Promise<Room> {
    const row = await this.#select().where('rooms.id', '=', id).executeTakeFirst();
    if (!row) throw notFound(`no room ${id}`, ErrorCode.RoomNotFound);
    return toRoom(row);
  }

  async list(query: ListRoomsQuery): Promise<ListRoomsResponse> {
    let q = this.#select();
    q = query.status ? q.where('rooms.status', '=', query.status) : q.where('rooms.status', '!=', 'ended');
    if (query.kind) q = q.where('rooms.kind', '=', query.kind);
    if (query.owner) q = q.where('rooms.owner_id', '=', query.owner);
    if (query.cursor) {
      const [at, id] = decodeCursor(query.cursor);
      q = q.where((eb) =>
        eb.or([eb('rooms.created_at', '<', at), eb.and([eb('rooms.created_at', '=', at), eb('rooms.id', '<', id)])]),
      );
    }
    const rows = await q
      .orderBy('rooms.created_at', 'desc')
      .orderBy('rooms.id', 'desc')
      .limit(query.limit + 1)
      .execute();
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return { rooms: page.map(toRoom), nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null };
  }

  /** An owner's most recently created live room (a broadcast), whatever its status; null when none. */
  async latestBroadcastOf(ownerId: string): Promise<Room | null> {
    const row = await this.#select()
      .where('rooms.owner_id', '=', ownerId)
      .where('rooms.kind', '=', 'live')
      .orderBy('rooms.created_at', 'desc')
      .orderBy('rooms.id', 'desc')
      .executeTakeFirst();
    return row ? toRoom(row) : null;
  }

  async update(actor: Session, id: RoomId, patch: UpdateRoomRequest): Promise<Room> {
    const room = await this.get(id);
    if (room.ownerId !== actor.userId && actor.role !== 'admin') {
      throw forbidden('only the room owner can change it', ErrorCode.NotRoomOwner);
    }
    if (room.status === 'ended') throw conflict('the room has ended', ErrorCode.RoomEnded);
    if (patch.ticketPrice != null && room.kind !== 'live') throw badRequest('ticketPrice applies to live rooms only');
    if (patch.pricePerMinute != null && room.kind !== 'call')
      throw badRequest('pricePerMinute applies to call rooms only');
    const changes = {
      ...(patch.title !== undefined ? { title: patch.title } : {}),
      ...(patch.ticketPrice !== undefined ? { ticket_price: patch.ticketPrice } : {}),
      ...(patch.pricePerMinute !== undefined ? { price_per_minute: patch.pricePerMinute } : {}),
    };
    if (Object.keys(changes).length > 0) await this.db.updateTable('rooms').set(changes).where('id', '=', id).execute();
    if (patch.status === 'live') await this.transition(id, 'live');
    const updated = await this.get(id);
    if (Object.keys(changes).length > 0) this.emit('update', updated);
    return updated;
  }

  /**
   * Owner, moderators and admins may end a room. Someone else's room ending is recorded in the
   * audit trail (with `reason`, which its viewers are told).
   */
  async end(actor: Session, id: RoomId, o: { requestId?: string; reason?: string } = {}): Promise<Room> {
    const room = await this.get(id);
    if (room.ownerId !== actor.userId && actor.role !== 'admin' && actor.role !== 'moderator') {
      throw forbidden('only the room owner or a moderator can end it', ErrorCode.NotRoomOwner);
    }
    if (room.ownerId !== actor.userId && room.status !== 'ended') {
      this.#endReasons.set(id, o.reason ?? 'ended by a moderator');
      await this.audit?.record({
        actorId: actor.userId,
        actorRole: actor.role,
        action: o.reason ? 'live.end' : 'room.end',
        targetType: 'room',
        targetId: id,
        roomId: id,
        reason: o.reason ?? null,
        requestId: o.requestId ?? null,
        details: { ownerId: room.ownerId, kind: room.kind, status: room.status },
      });
    }
    try {
      return await this.transition(id, 'ended');
    } finally {
      this.#endReasons.delete(id);
    }
  }

  /** Why a room is ending right now when someone other than its owner ends it (its status listeners ask). */
  endReason(id: RoomId): string | undefined {
    return this.#endReasons.get(id);
  }

  /**
   * Viewers watching a live room now, as the media plane reports them. While the room is live the
   * same statement keeps its statistics: the peak, and the integral of the count over time (the
   * old count times the time since `viewers_at`). One UPDATE, so concurrent reports serialize on
   * the row lock and each adds its own interval; `greatest` keeps a report stamped a little
   * earlier than one already applied from adding a negative interval.
   */
  async setViewerCount(id: RoomId, count: number): Promise<void> {
    const now = this.#now();
    await this.db
      .updateTable('rooms')
      .set({
        viewer_seconds: sql`viewer_seconds + ${elapsedViewerSeconds(now)}`,
        viewers_at: sql`case when status = 'live' then greatest(viewers_at, ${now}::timestamptz) end`,
        peak_viewers: sql`case when status = 'live' then greatest(peak_viewers, ${count}::integer) else peak_viewers end`,
        viewer_count: count,
      })
      .where('id', '=', id)
      .where('status', '!=', 'ended')
      .execute();
  }

  /** Statistics and earnings of a live room's broadcast (its owner or an admin). */
  summary(actor: Session, id: RoomId): Promise<BroadcastSummary> {
    return broadcastSummary(this.db, actor, id, this.#now());
  }

  /**
   * Move a room forward in its lifecycle (created → live → ended; created → ended). Going live
   * again while live is a no-op; anything backwards is refused. Used by the routes and, later,
   * by the media plane's events.
   */
  async transition(id: RoomId, to: Exclude<RoomStatus, 'created'>): Promise<Room> {
    const from: RoomStatus[] = to === 'live' ? ['created'] : ['created', 'live'];
    const now = this.#now();
    const updated = await this.db
      .updateTable('rooms')
      .set(
        to === 'live'
          ? {
              status: 'live',
              started_at: now,
              // Viewers already waiting count from now on.
              viewers_at: now,
              peak_viewers: sql`greatest(peak_viewers, viewer_count)`,
            }
          : {
              status: 'ended',
              ended_at: now,
              // Close the integral at the moment the broadcast ends.
              viewer_seconds: sql`viewer_seconds + ${elapsedViewerSeconds(now)}`,
              viewers_at: null,
              viewer_count: 0,
            },
      )
      .where('id', '=', id)
      .where('status', 'in', from)
      .executeTakeFirst();
    const room = await this.get(id);
    if (updated.numUpdatedRows === 0n && room.status !== to) {
      throw conflict(
        room.status === 'ended' ? 'the room has ended' : `cannot go from ${room.status} to ${to}`,
        room.status === 'ended' ? ErrorCode.RoomEnded : ErrorCode.InvalidTransition,
      );
    }
    if (updated.numUpdatedRows > 0n) {
      this.logger.info({ roomId: id, status: to }, 'room status changed');
      await this.emitSerial('status', room);
    }
    return room;
  }
}
