import { notFound } from '@fusionflow/kit';
import {
  type AdminUserDetail,
  type AdminUserSearchQuery,
  type AdminUserSummary,
  asUserId,
  type Report,
  type UserId,
} from '@fusionflow/protocol';
import { type Kysely, sql } from 'kysely';
import type { Database, UserRow } from '../../db/schema.js';

/** LIKE pattern for a search term: its own %, _ and \ are literal. */
const likePattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * What moderators and admins see of accounts: search by name or email, and one account's roles,
 * sign-up date, balance, earnings, recent rooms, suspension and the reports against it.
 */
export class UserDirectory {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly reportsAgainst: (userId: UserId) => Promise<Report[]> = async () => [],
  ) {}

  async search(q: AdminUserSearchQuery): Promise<AdminUserSummary[]> {
    let query = this.#select();
    if (q.q) {
      const pattern = likePattern(q.q.toLowerCase());
      query = query.where((eb) =>
        eb.or([eb(sql`lower(u.display_name)`, 'like', pattern), eb('u.email', 'like', pattern)]),
      );
    }
    if (q.role) query = query.where('u.role', '=', q.role);
    if (q.suspended === 'true') query = query.where(activeSuspension);
    if (q.suspended === 'false') query = query.where((eb) => eb.not(activeSuspension(eb)));
    const rows = await query.orderBy('u.created_at', 'desc').orderBy('u.id').limit(q.limit).execute();
    return rows.map(toSummary);
  }

  async detail(userId: UserId): Promise<AdminUserDetail> {
    const row = await this.#select().where('u.id', '=', userId).executeTakeFirst();
    if (!row) throw notFound('no such account');
    const balances = await this.db
      .selectFrom('accounts')
      .select(['kind', 'balance'])
      .where('owner_id', '=', userId)
      .where('kind', 'in', ['wallet', 'earnings', 'studio'])
      .execute();
    const balance = (kind: string) => Number(balances.find((b) => b.kind === kind)?.balance ?? 0);
    const earned = await this.db
      .selectFrom('ledger_entries as e')
      .innerJoin('ledger_transactions as t', 't.id', 'e.transaction_id')
      .select(sql<number>`coalesce(sum(e.amount), 0)`.as('total'))
      .where('e.account_id', 'in', [`earnings:${userId}`, `studio:${userId}`])
      .where('t.kind', 'in', ['tip', 'ticket', 'call_minute'])
      .executeTakeFirstOrThrow();
    const rooms = await this.db
      .selectFrom('rooms')
      .select(['id', 'kind', 'title', 'status', 'created_at'])
      .where('owner_id', '=', userId)
      .orderBy('created_at', 'desc')
      .limit(10)
      .execute();
    return {
      ...toSummary(row),
      balance: balance('wallet'),
      earnings: { available: balance('earnings') + balance('studio'), total: Number(earned.total) },
      recentRooms: rooms.map((r) => ({
        id: r.id,
        kind: r.kind,
        title: r.title,
        status: r.status,
        createdAt: r.created_at.toISOString(),
      })),
      reports: await this.reportsAgainst(userId),
    };
  }

  #select() {
    return this.db
      .selectFrom('users as u')
      .leftJoin('suspensions as s', 's.user_id', 'u.id')
      .selectAll('u')
      .select([
        's.reason as s_reason',
        's.until as s_until',
        's.created_by as s_by',
        's.created_at as s_at',
        's.user_id as s_user',
      ]);
  }
}

// biome-ignore lint/suspicious/noExplicitAny: Kysely's expression builder over the joined tables
const activeSuspension = (eb: any) =>
  eb.and([eb('s.user_id', 'is not', null), eb.or([eb('s.until', 'is', null), eb('s.until', '>', new Date())])]);

function toSummary(
  r: UserRow & {
    s_reason: string | null;
    s_until: Date | string | null;
    s_by: string | null;
    s_at: Date | null;
    s_user: string | null;
  },
): AdminUserSummary {
  const active = r.s_user !== null && (r.s_until === null || new Date(r.s_until).getTime() > Date.now());
  return {
    id: asUserId(r.id),
    email: r.email,
    displayName: r.display_name,
    role: r.role,
    createdAt: r.created_at.toISOString(),
    studioId: r.studio_id === null ? null : asUserId(r.studio_id),
    suspension:
      active && r.s_reason !== null && r.s_by !== null && r.s_at !== null
        ? {
            userId: asUserId(r.id),
            reason: r.s_reason,
            until: r.s_until === null ? null : new Date(r.s_until).toISOString(),
            by: r.s_by,
            at: new Date(r.s_at).toISOString(),
          }
        : null,
  };
}
