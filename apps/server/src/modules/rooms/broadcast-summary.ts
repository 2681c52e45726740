import { conflict, forbidden, notFound } from '@fusionflow/kit';
import { asRoomId, type BroadcastSummary, ErrorCode, type RoomId } from '@fusionflow/protocol';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Session } from '../identity/access-tokens.js';

/**
 * The streamer's end-of-broadcast summary of a live room: how long it was live, its peak and
 * average viewers (from the statistics `RoomService.setViewerCount` keeps), what tips and tickets
 * earned the streamer (their earnings account's entries in the room's ledger transactions, i.e.
 * after the platform fee and any studio share) and how many chat messages it had (deleted ones
 * not counted). For the room's owner and admins; `now` ends a room that is still live.
 */
export async function broadcastSummary(
  db: Kysely<Database>,
  actor: Session,
  id: RoomId,
  now: Date,
): Promise<BroadcastSummary> {
  const room = await db
    .selectFrom('rooms')
    .select([
      'id',
      'owner_id',
      'kind',
      'status',
      'started_at',
      'ended_at',
      'viewer_count',
      'peak_viewers',
      'viewer_seconds',
      'viewers_at',
    ])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!room) throw notFound(`no room ${id}`, ErrorCode.RoomNotFound);
  if (room.owner_id !== actor.userId && actor.role !== 'admin') {
    throw forbidden("only the room's owner can see its summary", ErrorCode.NotRoomOwner);
  }
  if (room.kind !== 'live') throw conflict('calls have no broadcast summary', ErrorCode.WrongRoomKind);
  if (room.status === 'created' || !room.started_at) {
    throw conflict('the room has not gone live yet', ErrorCode.RoomNotStarted);
  }

  const live = room.status === 'live';
  const end = live ? now : new Date(room.ended_at ?? now);
  const durationMs = Math.max(0, end.getTime() - new Date(room.started_at).getTime());
  // A live room's integral runs up to its last change; the count has been constant since.
  const pendingMs = live && room.viewers_at ? Math.max(0, now.getTime() - new Date(room.viewers_at).getTime()) : 0;
  const viewerSeconds = Number(room.viewer_seconds) + (room.viewer_count * pendingMs) / 1000;
  const averageViewers = durationMs > 0 ? Math.round((viewerSeconds / (durationMs / 1000)) * 10) / 10 : 0;

  const money = await db
    .selectFrom('ledger_transactions as t')
    .leftJoin('ledger_entries as e', (j) =>
      j.onRef('e.transaction_id', '=', 't.id').on('e.account_id', '=', `earnings:${room.owner_id}`),
    )
    .select([
      't.kind',
      sql<string>`count(distinct t.id)`.as('count'),
      sql<string>`coalesce(sum(e.amount), 0)`.as('earned'),
    ])
    .where('t.room_id', '=', id)
    .where('t.kind', 'in', ['tip', 'ticket'])
    .groupBy('t.kind')
    .execute();
  const of = (kind: 'tip' | 'ticket') => money.find((m) => m.kind === kind);

  const chat = await db
    .selectFrom('chat_messages')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('room_id', '=', id)
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();

  return {
    roomId: asRoomId(room.id),
    status: live ? 'live' : 'ended',
    durationSeconds: Math.round(durationMs / 1000),
    peakViewers: room.peak_viewers,
    averageViewers,
    tipsEarned: Number(of('tip')?.earned ?? 0),
    ticketsSold: Number(of('ticket')?.count ?? 0),
    ticketsEarned: Number(of('ticket')?.earned ?? 0),
    messages: Number(chat.n),
  };
}
