import { randomUUID } from 'node:crypto';
import { badRequest, conflict, forbidden, type Logger, notFound, rateLimited } from '@fusionflow/kit';
import {
  asChatMessageId,
  asRoomId,
  asUserId,
  type ChatModerateRequest,
  type CreateReportRequest,
  ErrorCode,
  type MyReport,
  type Report,
  type ReportStatus,
  type ReportTarget,
  type ResolveReportRequest,
  type SuspendRequest,
  type UserId,
} from '@fusionflow/protocol';
import type { Kysely, Selectable } from 'kysely';
import { isUniqueViolation } from '../../db/database.js';
import type { Database, ReportsTable } from '../../db/schema.js';
import type { Session } from '../identity/access-tokens.js';
import type { AuditLog } from './audit-log.js';

/** What a resolution may do in the room of a reported message. */
export interface ReportChat {
  staffDelete(
    actor: Session,
    roomId: ReturnType<typeof asRoomId>,
    messageId: ReturnType<typeof asChatMessageId>,
    requestId: string,
  ): Promise<void>;
  staffModerate(actor: Session, msg: ChatModerateRequest, requestId: string): Promise<void>;
}

export interface ReportServiceOptions {
  db: Kysely<Database>;
  audit: AuditLog;
  chat: ReportChat;
  suspensions: {
    suspend(actor: Session, userId: UserId, req: SuspendRequest, requestId: string | null): Promise<unknown>;
  };
  /** Reports one account may file per hour. */
  perHour: number;
  logger: Logger;
}

/** Mutes from a report last this long unless the moderator says otherwise. */
const DEFAULT_MUTE_SECONDS = 600;

const targetKey = (t: ReportTarget) =>
  t.type === 'message'
    ? `message:${t.roomId}:${t.messageId}`
    : t.type === 'user'
      ? `user:${t.userId}`
      : `broadcast:${t.roomId}`;

/**
 * Reports and the moderators' queue. Any signed-in account reports a chat message, a user or a
 * broadcast (one open report per target; `perHour` per reporter, counted in the database under a
 * lock on the reporter's row, so a parallel burst cannot slip past it). Moderators and admins claim
 * a report, then resolve it with an action, which runs through the same paths as doing it by hand
 * (the chat's delete, mute and ban; the platform suspension) and is audited; the reporter sees that
 * it was handled and how, not by whom.
 */
export class ReportService {
  constructor(private readonly o: ReportServiceOptions) {}

  async create(reporter: Session, req: CreateReportRequest): Promise<MyReport> {
    if (reporter.isGuest) throw forbidden('sign in to report');
    const { db } = this.o;
    const t = req.target;
    let subject: string | null = null;
    let messageText: string | null = null;
    let roomId: string | null = null;
    if (t.type === 'message') {
      const message = await db
        .selectFrom('chat_messages')
        .select(['author_id', 'text'])
        .where('id', '=', Number(t.messageId))
        .where('room_id', '=', t.roomId)
        .executeTakeFirst();
      if (!message) throw notFound('no such message in this room');
      subject = message.author_id;
      messageText = message.text;
      roomId = t.roomId;
    } else if (t.type === 'user') {
      const user = await db.selectFrom('users').select('id').where('id', '=', t.userId).executeTakeFirst();
      if (!user) throw notFound('no such account');
      subject = user.id;
    } else {
      const room = await db
        .selectFrom('rooms')
        .select(['owner_id', 'kind'])
        .where('id', '=', t.roomId)
        .executeTakeFirst();
      if (!room) throw notFound('no such broadcast', ErrorCode.RoomNotFound);
      if (room.kind !== 'live')
        throw conflict('only broadcasts (live rooms) are reported as such', ErrorCode.WrongRoomKind);
      subject = room.owner_id;
      roomId = t.roomId;
    }
    if (subject === reporter.userId) throw badRequest('you cannot report yourself');
    const key = targetKey(t);
    try {
      const row = await db.transaction().execute(async (tx) => {
        // One reporter's reports are counted and written one at a time.
        await tx.selectFrom('users').select('id').where('id', '=', reporter.userId).forUpdate().executeTakeFirst();
        const open = await tx
          .selectFrom('reports')
          .selectAll()
          .where('reporter_id', '=', reporter.userId)
          .where('target_key', '=', key)
          .where('status', '!=', 'resolved')
          .executeTakeFirst();
        if (open) return open; // reported already: the same report
        const since = new Date(Date.now() - 3600_000);
        const recent = await tx
          .selectFrom('reports')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('reporter_id', '=', reporter.userId)
          .where('created_at', '>', since)
          .executeTakeFirstOrThrow();
        if (Number(recent.n) >= this.o.perHour) {
          throw rateLimited(3600, `at most ${this.o.perHour} reports an hour; moderators are looking at yours`);
        }
        return tx
          .insertInto('reports')
          .values({
            id: randomUUID(),
            reporter_id: reporter.userId,
            target_type: t.type,
            target_key: key,
            room_id: roomId,
            message_id: t.type === 'message' ? Number(t.messageId) : null,
            subject_user_id: subject,
            message_text: messageText,
            reason: req.reason,
            note: req.note ?? null,
            status: 'open',
          })
          .returningAll()
          .executeTakeFirstOrThrow();
      });
      return mine(toReport(row));
    } catch (err) {
      // Two identical reports at the same moment: the index kept one; answer with it.
      if (isUniqueViolation(err)) {
        const row = await db
          .selectFrom('reports')
          .selectAll()
          .where('reporter_id', '=', reporter.userId)
          .where('target_key', '=', key)
          .where('status', '!=', 'resolved')
          .executeTakeFirstOrThrow();
        return mine(toReport(row));
      }
      throw err;
    }
  }

  /** The reporter's own reports, newest first: handled or not, and with what action. */
  async mine(reporter: Session): Promise<MyReport[]> {
    const rows = await this.o.db
      .selectFrom('reports')
      .selectAll()
      .where('reporter_id', '=', reporter.userId)
      .orderBy('created_at', 'desc')
      .limit(100)
      .execute();
    return rows.map((r) => mine(toReport(r)));
  }

  async queue(q: { status?: ReportStatus; limit: number }): Promise<Report[]> {
    let query = this.o.db.selectFrom('reports').selectAll();
    query = q.status ? query.where('status', '=', q.status) : query.where('status', '!=', 'resolved');
    const rows = await query.orderBy('created_at').orderBy('id').limit(q.limit).execute();
    return rows.map(toReport);
  }

  async against(userId: string): Promise<Report[]> {
    const rows = await this.o.db
      .selectFrom('reports')
      .selectAll()
      .where('subject_user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .limit(50)
      .execute();
    return rows.map(toReport);
  }

  /** Take a report off the queue to work on it. Claiming your own claim again changes nothing. */
  async claim(actor: Session, id: string, requestId: string): Promise<Report> {
    this.#staff(actor);
    const row = await this.o.db.transaction().execute(async (tx) => {
      const report = await this.#locked(tx, id);
      if (report.status === 'resolved') throw conflict('the report was resolved', ErrorCode.InvalidTransition);
      if (report.status === 'claimed') {
        if (report.claimed_by === actor.userId) return report;
        throw conflict('another moderator is working on this report');
      }
      const claimed = await tx
        .updateTable('reports')
        .set({ status: 'claimed', claimed_by: actor.userId, claimed_at: new Date() })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.o.audit.record(
        {
          actorId: actor.userId,
          actorRole: actor.role,
          action: 'report.claim',
          targetType: 'report',
          targetId: id,
          roomId: report.room_id,
          requestId,
          details: { subjectUserId: report.subject_user_id },
        },
        tx,
      );
      return claimed;
    });
    return toReport(row);
  }

  /**
   * Resolve a report with an action. The action runs first, through its own path (and its own
   * audit row); the report is then marked resolved. An open report is claimed on the way; one
   * another moderator claimed is theirs to resolve.
   */
  async resolve(actor: Session, id: string, req: ResolveReportRequest, requestId: string): Promise<Report> {
    this.#staff(actor);
    const report = await this.#get(id);
    if (report.status === 'resolved') throw conflict('the report was resolved', ErrorCode.InvalidTransition);
    if (report.status === 'claimed' && report.claimed_by !== actor.userId) {
      throw conflict('another moderator is working on this report');
    }
    const subject = report.subject_user_id ? asUserId(report.subject_user_id) : null;
    const roomId = report.room_id ? asRoomId(report.room_id) : null;
    const reason = req.note ?? `report ${report.id}: ${report.reason}`;
    switch (req.action) {
      case 'dismiss':
        break;
      case 'delete_message':
        if (report.target_type !== 'message' || !roomId || report.message_id === null) {
          throw badRequest('delete_message resolves reports of a message');
        }
        await this.o.chat.staffDelete(actor, roomId, asChatMessageId(report.message_id), requestId).catch((err) => {
          // Deleted already (by its author or a moderator): the report is handled all the same.
          if ((err as { code?: string }).code !== ErrorCode.NotFound) throw err;
        });
        break;
      case 'mute':
      case 'ban':
        if (report.target_type !== 'message' || !roomId || !subject) {
          throw badRequest(`${req.action} applies in the room of a reported message; suspend a user or broadcast`);
        }
        await this.o.chat.staffModerate(
          actor,
          req.action === 'mute'
            ? {
                roomId,
                action: 'mute',
                userId: subject,
                durationSeconds: req.durationSeconds ?? DEFAULT_MUTE_SECONDS,
                reason: reason.slice(0, 200),
              }
            : { roomId, action: 'ban', userId: subject, reason: reason.slice(0, 200) },
          requestId,
        );
        break;
      case 'suspend':
        if (!subject) throw badRequest('nobody to suspend');
        await this.o.suspensions.suspend(
          actor,
          subject,
          { reason: reason.slice(0, 500), ...(req.until ? { until: req.until } : {}) },
          requestId,
        );
        break;
    }
    const row = await this.o.db.transaction().execute(async (tx) => {
      const current = await this.#locked(tx, id);
      if (current.status === 'resolved') throw conflict('the report was resolved', ErrorCode.InvalidTransition);
      const now = new Date();
      const resolved = await tx
        .updateTable('reports')
        .set({
          status: 'resolved',
          claimed_by: current.claimed_by ?? actor.userId,
          claimed_at: current.claimed_at ?? now,
          resolved_by: actor.userId,
          resolved_at: now,
          action: req.action,
          resolution: req.note ?? null,
        })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await this.o.audit.record(
        {
          actorId: actor.userId,
          actorRole: actor.role,
          action: 'report.resolve',
          targetType: 'report',
          targetId: id,
          roomId: current.room_id,
          reason: req.note ?? null,
          requestId,
          details: { action: req.action, subjectUserId: current.subject_user_id, reason: current.reason },
        },
        tx,
      );
      return resolved;
    });
    this.o.logger.info({ reportId: id, action: req.action, by: actor.userId }, 'report resolved');
    return toReport(row);
  }

  #staff(actor: Session): void {
    if (actor.role !== 'moderator' && actor.role !== 'admin')
      throw forbidden('only moderators and admins work reports');
  }

  async #get(id: string): Promise<Selectable<ReportsTable>> {
    const row = await this.o.db.selectFrom('reports').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('no such report');
    return row;
  }

  async #locked(tx: Kysely<Database>, id: string): Promise<Selectable<ReportsTable>> {
    const row = await tx.selectFrom('reports').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
    if (!row) throw notFound('no such report');
    return row;
  }
}

function toReport(r: Selectable<ReportsTable>): Report {
  const target: ReportTarget =
    r.target_type === 'message'
      ? { type: 'message', roomId: asRoomId(r.room_id ?? ''), messageId: String(r.message_id) }
      : r.target_type === 'user'
        ? { type: 'user', userId: asUserId(r.subject_user_id ?? '') }
        : { type: 'broadcast', roomId: asRoomId(r.room_id ?? '') };
  const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
  return {
    id: r.id,
    reporterId: asUserId(r.reporter_id),
    target,
    subjectUserId: r.subject_user_id === null ? null : asUserId(r.subject_user_id),
    messageText: r.message_text,
    reason: r.reason as Report['reason'],
    note: r.note,
    status: r.status,
    claimedBy: r.claimed_by,
    resolvedBy: r.resolved_by,
    action: r.action as Report['action'],
    resolution: r.resolution,
    createdAt: r.created_at.toISOString(),
    resolvedAt: iso(r.resolved_at),
  };
}

const mine = (r: Report): MyReport => ({
  id: r.id,
  target: r.target,
  reason: r.reason,
  note: r.note,
  status: r.status,
  action: r.action,
  createdAt: r.createdAt,
  resolvedAt: r.resolvedAt,
});
