import type { AuditAction, AuditEvent, AuditQuery, AuditTargetType } from '@fusionflow/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

/** One action to record. */
export interface AuditEntry {
  actorId: string | null;
  /** The actor's role when they acted: a platform role, or `owner` / `channel_moderator` in a room. */
  actorRole: string | null;
  action: AuditAction;
  targetType: AuditTargetType;
  targetId?: string | null;
  roomId?: string | null;
  reason?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

/** Where an action happened: the actor and the request. */
export interface AuditContext {
  actorId: string;
  actorRole: string;
  requestId: string | null;
}

export type AuditFilter = Omit<AuditQuery, 'limit'> & { limit?: number };

/** The most rows one CSV export holds (newest first); narrow the filter for older ones. */
export const CSV_MAX_ROWS = 50_000;

const CSV_COLUMNS = [
  'id',
  'at',
  'actor_id',
  'actor_name',
  'actor_role',
  'action',
  'target_type',
  'target_id',
  'room_id',
  'reason',
  'request_id',
  'details',
] as const;

/**
 * The governance audit trail (`audit_events`): append-only — this class only inserts and reads,
 * and the database refuses UPDATE, DELETE and TRUNCATE. Writers pass their transaction so the
 * record commits or rolls back with the action it describes.
 */
export class AuditLog {
  constructor(private readonly db: Kysely<Database>) {}

  async record(entry: AuditEntry, db: Kysely<Database> = this.db): Promise<void> {
    await db
      .insertInto('audit_events')
      .values({
        actor_id: entry.actorId,
        actor_role: entry.actorRole,
        action: entry.action,
        target_type: entry.targetType,
        target_id: entry.targetId ?? null,
        room_id: entry.roomId ?? null,
        reason: entry.reason ?? null,
        request_id: entry.requestId ?? null,
        details: JSON.stringify(entry.details ?? {}),
      })
      .execute();
  }

  /** Newest first; `nextCursor` pages further back. */
  async list(filter: AuditFilter): Promise<{ events: AuditEvent[]; nextCursor: string | null }> {
    const limit = filter.limit ?? 100;
    const rows = await this.#query(filter)
      .limit(limit + 1)
      .execute();
    const page = rows.slice(0, limit).map(toEvent);
    return { events: page, nextCursor: rows.length > limit ? (page.at(-1)?.id ?? null) : null };
  }

  /** The filtered trail as CSV (RFC 4180), newest first, at most CSV_MAX_ROWS rows. */
  async csv(filter: AuditFilter): Promise<string> {
    const rows = (await this.#query(filter).limit(CSV_MAX_ROWS).execute()).map(toEvent);
    const lines = [CSV_COLUMNS.join(',')];
    for (const e of rows) {
      lines.push(
        [
          e.id,
          e.at,
          e.actorId,
          e.actorName,
          e.actorRole,
          e.action,
          e.targetType,
          e.targetId,
          e.roomId,
          e.reason,
          e.requestId,
          JSON.stringify(e.details),
        ]
          .map(csvCell)
          .join(','),
      );
    }
    return `${lines.join('\r\n')}\r\n`;
  }

  #query(f: AuditFilter) {
    let q = this.db
      .selectFrom('audit_events as a')
      .leftJoin('users as u', 'u.id', 'a.actor_id')
      .selectAll('a')
      .select('u.display_name as actor_name');
    if (f.actorId) q = q.where('a.actor_id', '=', f.actorId);
    if (f.targetId) q = q.where('a.target_id', '=', f.targetId);
    if (f.roomId) q = q.where('a.room_id', '=', f.roomId);
    if (f.action) q = q.where('a.action', '=', f.action);
    if (f.from) q = q.where('a.at', '>=', new Date(f.from));
    if (f.to) q = q.where('a.at', '<', new Date(f.to));
    if (f.cursor) q = q.where('a.id', '<', Number(f.cursor));
    return q.orderBy('a.id', 'desc');
  }
}

function toEvent(r: {
  id: number | string;
  at: Date;
  actor_id: string | null;
  actor_name: string | null;
  actor_role: string | null;
  action: string;
  target_type: AuditTargetType;
  target_id: string | null;
  room_id: string | null;
  reason: string | null;
  request_id: string | null;
  details: Record<string, unknown>;
}): AuditEvent {
  return {
    id: String(r.id),
    at: r.at.toISOString(),
    actorId: r.actor_id,
    actorName: r.actor_name,
    actorRole: r.actor_role,
    action: r.action as AuditAction,
    targetType: r.target_type,
    targetId: r.target_id,
    roomId: r.room_id,
    reason: r.reason,
    requestId: r.request_id,
    details: r.details,
  };
}

/**
 * One CSV cell: quoted when it holds a separator, quote or line break; a cell a spreadsheet would
 * run as a formula (`=`, `+`, `-`, `@`, tab, CR) gets a leading apostrophe (CSV injection).
 */
export function csvCell(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
