import { badRequest, conflict, forbidden, type Logger, notFound } from '@fusionflow/kit';
import {
  asRoomId,
  asUserId,
  ErrorCode,
  type ReinstateRequest,
  type SuspendRequest,
  type Suspension,
  type UserId,
} from '@fusionflow/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Session } from '../identity/access-tokens.js';
import { activeSuspension } from '../identity/identity-service.js';
import type { AuditLog } from './audit-log.js';

export interface SuspensionServiceOptions {
  db: Kysely<Database>;
  audit: AuditLog;
  /** Signs the account out everywhere (refresh tokens, access tokens, real-time connections). */
  sessions: { endUserSessions(userId: UserId, message: string): Promise<number> };
  /** Ends the user's SFU sessions everywhere and refuses the grants they hold. */
  media: { endUserMedia(userId: string): Promise<void> };
  /** Ends a room (its viewers are told, its SFU room closes). */
  rooms: { transition(id: ReturnType<typeof asRoomId>, to: 'ended'): Promise<unknown> };
  logger: Logger;
}

/**
 * Platform suspensions. Suspending an account signs it out everywhere, closes its real-time
 * connections and SFU sessions and ends its live rooms before the answer goes back; from then on
 * it cannot sign in (`suspended`, with the reason and the end) until an admin reinstates it or the
 * end passes. Moderators may suspend viewers and streamers, never moderators or admins; the last
 * admin is never suspended; nobody suspends themselves. Every change is in the audit trail.
 */
export class SuspensionService {
  constructor(private readonly o: SuspensionServiceOptions) {}

  async get(userId: UserId): Promise<Suspension | null> {
    const s = await activeSuspension(this.o.db, userId);
    return s ? toSuspension(userId, s) : null;
  }

  async suspend(actor: Session, userId: UserId, req: SuspendRequest, requestId: string | null): Promise<Suspension> {
    if (actor.role !== 'admin' && actor.role !== 'moderator') throw forbidden('only moderators and admins suspend');
    if (actor.userId === userId) throw forbidden('you cannot suspend yourself');
    const until = req.until ? new Date(req.until) : null;
    if (until && until.getTime() <= Date.now()) throw badRequest('until must be in the future');
    const suspension = await this.o.db.transaction().execute(async (tx) => {
      const admins = await tx
        .selectFrom('users')
        .select('id')
        .where('role', '=', 'admin')
        .orderBy('id')
        .forUpdate()
        .execute();
      const target = await tx
        .selectFrom('users')
        .select(['id', 'role'])
        .where('id', '=', userId)
        .forUpdate()
        .executeTakeFirst();
      if (!target) throw notFound('no such account');
      if (actor.role === 'moderator' && (target.role === 'admin' || target.role === 'moderator')) {
        throw forbidden('a moderator cannot suspend moderators or admins');
      }
      if (target.role === 'admin') {
        const others = admins.map((a) => a.id).filter((id) => id !== userId);
        const suspended = others.length
          ? await tx
              .selectFrom('suspensions')
              .select('user_id')
              .where('user_id', 'in', others)
              .where((eb) => eb.or([eb('until', 'is', null), eb('until', '>', new Date())]))
              .execute()
          : [];
        if (others.length - suspended.length === 0) {
          throw conflict('the last admin cannot be suspended', ErrorCode.LastAdmin);
        }
      }
      const values = { reason: req.reason, until, created_by: actor.userId, created_at: new Date() };
      await tx
        .insertInto('suspensions')
        .values({ user_id: userId, ...values })
        .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
        .execute();
      await this.o.audit.record(
        {
          actorId: actor.userId,
          actorRole: actor.role,
          action: 'user.suspend',
          targetType: 'user',
          targetId: userId,
          reason: req.reason,
          requestId,
          details: { until: until?.toISOString() ?? null, role: target.role },
        },
        tx,
      );
      return toSuspension(userId, values);
    });
    await this.#enforce(userId, suspension);
    return suspension;
  }

  async reinstate(actor: Session, userId: UserId, req: ReinstateRequest, requestId: string | null): Promise<void> {
    if (actor.role !== 'admin') throw forbidden('only an admin reinstates a suspended account');
    await this.o.db.transaction().execute(async (tx) => {
      const removed = await tx.deleteFrom('suspensions').where('user_id', '=', userId).executeTakeFirst();
      if (removed.numDeletedRows === 0n) throw notFound('the account is not suspended');
      await this.o.audit.record(
        {
          actorId: actor.userId,
          actorRole: actor.role,
          action: 'user.reinstate',
          targetType: 'user',
          targetId: userId,
          reason: req.reason ?? null,
          requestId,
        },
        tx,
      );
    });
    this.o.logger.info({ userId, by: actor.userId }, 'account reinstated');
  }

  /** Everything the account had open ends now: sessions and sockets, media, live rooms. */
  async #enforce(userId: UserId, s: Suspension): Promise<void> {
    const message = `your account was suspended${s.until ? ` until ${s.until}` : ''}: ${s.reason}`;
    const sessions = await this.o.sessions.endUserSessions(userId, message);
    try {
      await this.o.media.endUserMedia(userId);
    } catch (err) {
      // Sessions are gone and grants are refused at issue; the ones held run out within GRANT_TTL_SECONDS.
      this.o.logger.error({ err, userId }, 'could not end the suspended user’s media');
    }
    const live = await this.o.db
      .selectFrom('rooms')
      .select('id')
      .where('owner_id', '=', userId)
      .where('status', '=', 'live')
      .execute();
    for (const room of live) {
      try {
        await this.o.rooms.transition(asRoomId(room.id), 'ended');
      } catch (err) {
        this.o.logger.error({ err, roomId: room.id, userId }, 'could not end the suspended user’s room');
      }
    }
    this.o.logger.info({ userId, sessions, rooms: live.length }, 'account suspended');
  }
}

function toSuspension(
  userId: string,
  s: { reason: string; until: Date | null; created_by: string; created_at: Date },
): Suspension {
  return {
    userId: asUserId(userId),
    reason: s.reason,
    until: s.until ? s.until.toISOString() : null,
    by: s.created_by,
    at: s.created_at.toISOString(),
  };
}
