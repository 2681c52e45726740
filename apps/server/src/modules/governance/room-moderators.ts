import { badRequest, forbidden, notFound } from '@fusionflow/kit';
import { asRoomId, asUserId, ErrorCode, type RoomId, type RoomModerator, type UserId } from '@fusionflow/protocol';
import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Database } from '../../db/schema.js';
import type { Session } from '../identity/access-tokens.js';
import type { RoomService } from '../rooms/room-service.js';
import type { AuditLog } from './audit-log.js';

/**
 * Channel moderators (Twitch-style): a room's owner appoints and removes them; they get that room's
 * chat moderation powers (delete, mute, ban, slow mode, blocked words) and none anywhere else.
 * Admins may change any room's list. "Is this user a moderator here?" is asked on the chat's hot
 * path, so answers are cached for `cacheTtlMs`; this process's changes clear the cache at once,
 * another process's show within the TTL.
 */
export class RoomModerators {
  readonly #cache: LRUCache<string, boolean>;

  constructor(private readonly o: { db: Kysely<Database>; rooms: RoomService; audit: AuditLog; cacheTtlMs?: number }) {
    this.#cache = new LRUCache({ max: 100_000, ttl: o.cacheTtlMs ?? 5000 });
  }

  async isModerator(roomId: RoomId, userId: string): Promise<boolean> {
    const key = `${roomId} ${userId}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const row = await this.o.db
      .selectFrom('room_moderators')
      .select('user_id')
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    this.#cache.set(key, row !== undefined);
    return row !== undefined;
  }

  async list(actor: Session, roomId: RoomId): Promise<RoomModerator[]> {
    const room = await this.o.rooms.get(roomId);
    if (room.ownerId !== actor.userId && actor.role !== 'admin' && actor.role !== 'moderator') {
      if (!(await this.isModerator(roomId, actor.userId))) {
        throw forbidden('only the room owner and its moderators see its moderators', ErrorCode.NotRoomOwner);
      }
    }
    const rows = await this.o.db
      .selectFrom('room_moderators as m')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['m.room_id', 'm.user_id', 'm.added_by', 'm.added_at', 'u.display_name'])
      .where('m.room_id', '=', roomId)
      .orderBy('m.added_at')
      .execute();
    return rows.map((r) => ({
      roomId: asRoomId(r.room_id),
      userId: asUserId(r.user_id),
      displayName: r.display_name,
      addedBy: r.added_by,
      addedAt: r.added_at.toISOString(),
    }));
  }

  async add(actor: Session, roomId: RoomId, userId: UserId, requestId: string | null): Promise<RoomModerator> {
    const room = await this.#changeable(actor, roomId);
    if (userId === room.ownerId) throw badRequest('the owner moderates their room already');
    const user = await this.o.db.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
    if (!user) throw notFound('no such account');
    await this.o.db.transaction().execute(async (tx) => {
      const inserted = await tx
        .insertInto('room_moderators')
        .values({ room_id: roomId, user_id: userId, added_by: actor.userId })
        .onConflict((oc) => oc.columns(['room_id', 'user_id']).doNothing())
        .returning('user_id')
        .executeTakeFirst();
      if (!inserted) return; // already one: nothing to record
      await this.o.audit.record(
        {
          actorId: actor.userId,
          actorRole: actor.userId === room.ownerId ? 'owner' : actor.role,
          action: 'room.moderator_add',
          targetType: 'user',
          targetId: userId,
          roomId,
          requestId,
        },
        tx,
      );
    });
    this.#cache.delete(`${roomId} ${userId}`);
    const added = (await this.list(actor, roomId)).find((m) => m.userId === userId);
    if (!added) throw notFound('no such account');
    return added;
  }

  async remove(actor: Session, roomId: RoomId, userId: UserId, requestId: string | null): Promise<void> {
    const room = await this.#changeable(actor, roomId);
    await this.o.db.transaction().execute(async (tx) => {
      const removed = await tx
        .deleteFrom('room_moderators')
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (removed.numDeletedRows === 0n) throw notFound('not a moderator of this room');
      await this.o.audit.record(
        {
          actorId: actor.userId,
          actorRole: actor.userId === room.ownerId ? 'owner' : actor.role,
          action: 'room.moderator_remove',
          targetType: 'user',
          targetId: userId,
          roomId,
          requestId,
        },
        tx,
      );
    });
    this.#cache.delete(`${roomId} ${userId}`);
  }

  /** Only the owner (or an admin) changes who moderates a room. */
  async #changeable(actor: Session, roomId: RoomId) {
    const room = await this.o.rooms.get(roomId);
    if (room.ownerId !== actor.userId && actor.role !== 'admin') {
      throw forbidden('only the room owner appoints its moderators', ErrorCode.NotRoomOwner);
    }
    return room;
  }
}
