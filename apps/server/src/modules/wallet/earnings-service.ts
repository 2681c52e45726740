import { badRequest } from '@fusionflow/kit';
import {
  asUserId,
  type EarningsResponse,
  type LedgerTransactionView,
  type StudioEarningsResponse,
  type TransactionKind,
} from '@fusionflow/protocol';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Ledger } from './ledger.js';

const SOURCE_BY_KIND = { tip: 'tips', ticket: 'tickets', call_minute: 'calls' } as const;

/** Read models over the ledger: a streamer's earnings by day and source, a studio's view, the admin ledger. */
export class EarningsService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly ledger: Ledger,
  ) {}

  async earnings(userId: string, days: number, account: 'earnings' | 'studio' = 'earnings'): Promise<EarningsResponse> {
    const since = new Date(Date.now() - days * 86_400_000);
    const rows = await this.db
      .selectFrom('ledger_entries as e')
      .innerJoin('ledger_transactions as t', 't.id', 'e.transaction_id')
      .select([
        sql<string>`to_char(date_trunc('day', t.created_at at time zone 'UTC'), 'YYYY-MM-DD')`.as('day'),
        't.kind',
        sql<number>`sum(e.amount)`.as('amount'),
      ])
      .where('e.account_id', '=', `${account}:${userId}`)
      .where('t.kind', 'in', ['tip', 'ticket', 'call_minute'])
      .where('t.created_at', '>=', since)
      .groupBy(['day', 't.kind'])
      .orderBy('day')
      .execute();
    const byDay = new Map<string, { day: string; tips: number; tickets: number; calls: number; total: number }>();
    const totals = { tips: 0, tickets: 0, calls: 0, total: 0 };
    for (const r of rows) {
      const source = SOURCE_BY_KIND[r.kind as keyof typeof SOURCE_BY_KIND];
      const amount = Number(r.amount);
      const day = byDay.get(r.day) ?? { day: r.day, tips: 0, tickets: 0, calls: 0, total: 0 };
      day[source] += amount;
      day.total += amount;
      totals[source] += amount;
      totals.total += amount;
      byDay.set(r.day, day);
    }
    return {
      available: await this.ledger.balance({ kind: account, ownerId: userId }),
      pendingPayouts: await this.ledger.balance({ kind: 'payout_pending', ownerId: userId }),
      totals,
      days: [...byDay.values()],
    };
  }

  /** What each of the studio's streamers earned in the period, and the studio's share of it. */
  async studio(studioId: string, days: number): Promise<StudioEarningsResponse> {
    const since = new Date(Date.now() - days * 86_400_000);
    const streamers = await this.db
      .selectFrom('users')
      .select(['id', 'display_name'])
      .where('studio_id', '=', studioId)
      .execute();
    const sums = await this.db
      .selectFrom('ledger_entries as e')
      .innerJoin('ledger_transactions as t', 't.id', 'e.transaction_id')
      .innerJoin('accounts as a', 'a.id', 'e.account_id')
      .select([
        sql<string>`t.metadata->>'streamerId'`.as('streamer'),
        'a.kind',
        sql<number>`sum(e.amount)`.as('amount'),
      ])
      .where(sql<boolean>`t.metadata->>'studioId' = ${studioId}`)
      .where('t.created_at', '>=', since)
      .where('a.kind', 'in', ['earnings', 'studio'])
      .groupBy(['streamer', 'a.kind'])
      .execute();
    const get = (id: string, kind: string) =>
      Number(sums.find((s) => s.streamer === id && s.kind === kind)?.amount ?? 0);
    return {
      available: await this.ledger.balance({ kind: 'studio', ownerId: studioId }),
      pendingPayouts: await this.ledger.balance({ kind: 'payout_pending', ownerId: studioId }),
      streamers: streamers.map((s) => ({
        userId: asUserId(s.id),
        displayName: s.display_name,
        streamerEarnings: get(s.id, 'earnings'),
        studioShare: get(s.id, 'studio'),
      })),
    };
  }

  /** Every transaction with its entries, newest first; filter by user (actor or account owner) or kind. */
  async ledgerView(q: {
    userId?: string | undefined;
    kind?: TransactionKind | undefined;
    limit: number;
    cursor?: string | undefined;
  }) {
    let query = this.db
      .selectFrom('ledger_transactions as t')
      .select(['t.id', 't.kind', 't.reason', 't.actor_id', 't.request_id', 't.room_id', 't.created_at']);
    if (q.kind) query = query.where('t.kind', '=', q.kind);
    if (q.userId) {
      const userId = q.userId;
      query = query.where((eb) =>
        eb.or([
          eb('t.actor_id', '=', userId),
          eb.exists(
            eb
              .selectFrom('ledger_entries as e')
              .innerJoin('accounts as a', 'a.id', 'e.account_id')
              .select('e.id')
              .whereRef('e.transaction_id', '=', 't.id')
              .where('a.owner_id', '=', userId),
          ),
        ]),
      );
    }
    if (q.cursor) {
      const [at, id] = q.cursor.split('|');
      const date = new Date(at ?? '');
      if (!id || Number.isNaN(date.getTime())) throw badRequest('cursor is not one this server gave out');
      query = query.where((eb) =>
        eb.or([eb('t.created_at', '<', date), eb.and([eb('t.created_at', '=', date), eb('t.id', '<', id)])]),
      );
    }
    const rows = await query
      .orderBy('t.created_at', 'desc')
      .orderBy('t.id', 'desc')
      .limit(q.limit + 1)
      .execute();
    const page = rows.slice(0, q.limit);
    const entries = page.length
      ? await this.db
          .selectFrom('ledger_entries')
          .select(['transaction_id', 'account_id', 'amount'])
          .where(
            'transaction_id',
            'in',
            page.map((r) => r.id),
          )
          .orderBy('id')
          .execute()
      : [];
    const transactions: LedgerTransactionView[] = page.map((r) => ({
      id: r.id,
      kind: r.kind,
      reason: r.reason,
      actorId: r.actor_id,
      requestId: r.request_id,
      roomId: r.room_id,
      createdAt: r.created_at.toISOString(),
      entries: entries
        .filter((e) => e.transaction_id === r.id)
        .map((e) => ({ account: e.account_id, amount: Number(e.amount) })),
    }));
    const total = await this.db
      .selectFrom('account_balances')
      .select(sql<number>`coalesce(sum(balance), 0)`.as('sum'))
      .executeTakeFirstOrThrow();
    const last = page.at(-1);
    return {
      transactions,
      nextCursor: rows.length > q.limit && last ? `${last.created_at.toISOString()}|${last.id}` : null,
      totalBalance: Number(total.sum),
    };
  }
}
