import { createHash, randomUUID } from 'node:crypto';
import { AppError, conflict, type Histogram } from '@fusionflow/kit';
import { ErrorCode, type TransactionKind } from '@fusionflow/protocol';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { AccountKind, Database } from '../../db/schema.js';

/** An account: per-user kinds carry the owner, platform kinds exist once. */
export type AccountRef =
  | { kind: 'wallet' | 'earnings' | 'studio' | 'payout_pending'; ownerId: string }
  | { kind: 'platform_revenue' | 'payment_clearing' | 'payouts' };

export function accountId(ref: AccountRef): string {
  return 'ownerId' in ref ? `${ref.kind}:${ref.ownerId}` : ref.kind;
}

/** One line of a transaction: positive credits the account, negative debits it. */
export interface Posting {
  account: AccountRef;
  amount: number;
}

export interface LedgerPost {
  kind: TransactionKind;
  /** Scoped by the caller (e.g. `tip:<user>:<client key>`); the same key never moves money twice. */
  idempotencyKey: string;
  /** What was asked; a second use of the key with a different request is refused. */
  request: unknown;
  actorId: string | null;
  requestId: string | null;
  roomId?: string | null;
  reason: string;
  metadata?: Record<string, unknown>;
  postings: Posting[];
}

export interface Posted {
  transactionId: string;
  /** True when the key had already moved money: nothing new happened. */
  replayed: boolean;
  createdAt: Date;
  metadata: Record<string, unknown>;
  /** Balances after the posting of the accounts that keep one (empty for a replay). */
  balances: Map<string, number>;
}

/**
 * Order in which a transaction locks its accounts. Every transaction uses the same total order, so
 * two transfers can never wait on each other in a cycle; shared, busy accounts (a streamer's
 * earnings) come last so their row locks are held for the shortest time. Platform accounts take no
 * lock at all (see migration 0005).
 */
const LOCK_RANK: Record<AccountKind, number> = {
  wallet: 0,
  payout_pending: 0,
  earnings: 1,
  studio: 1,
  payouts: 2,
  platform_revenue: 2,
  payment_clearing: 2,
};

const hashRequest = (request: unknown) => createHash('sha256').update(JSON.stringify(request)).digest('base64url');

interface PostRow {
  transaction_id: string;
  replayed: boolean;
  created_at: Date;
  metadata: Record<string, unknown>;
  balances: Record<string, number | string>;
}

/**
 * The double-entry ledger. Each posting is one immutable transaction row and its entries (the
 * database checks at commit that they sum to zero) and moves the account balances (which the
 * database keeps from going negative) — in one round trip, through the `ledger_post` function. The
 * idempotency key is unique: a retried request finds its first transaction and moves nothing.
 */
export class Ledger {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly latency: Histogram<'kind' | 'outcome'>,
  ) {}

  /**
   * Run `work` in one database transaction; map a balance that would go negative to
   * `insufficient_balance`. Callers write their own rows (purchase, entitlement, payout) in the same
   * transaction as the money.
   */
  async run<T>(kind: TransactionKind, work: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.#timed(kind, () => this.db.transaction().execute(work));
  }

  /** Post on its own: a single statement, so its own transaction (the fast path for tips). */
  postAlone(p: LedgerPost): Promise<Posted> {
    return this.#timed(p.kind, () => this.post(this.db, p));
  }

  async post(db: Kysely<Database>, p: LedgerPost): Promise<Posted> {
    const sum = p.postings.reduce((s, x) => s + x.amount, 0);
    if (sum !== 0 || p.postings.some((x) => !Number.isSafeInteger(x.amount) || x.amount === 0)) {
      throw new Error(`unbalanced or malformed postings for ${p.kind}: ${JSON.stringify(p.postings)}`);
    }
    // Merge postings per account, then order them for locking.
    const byAccount = new Map<string, { ref: AccountRef; amount: number }>();
    for (const posting of p.postings) {
      const key = accountId(posting.account);
      const line = byAccount.get(key) ?? { ref: posting.account, amount: 0 };
      line.amount += posting.amount;
      byAccount.set(key, line);
    }
    const lines = [...byAccount.entries()]
      .filter(([, l]) => l.amount !== 0)
      .sort(([a, la], [b, lb]) => LOCK_RANK[la.ref.kind] - LOCK_RANK[lb.ref.kind] || (a < b ? -1 : a > b ? 1 : 0));
    const metadata = p.metadata ?? {};
    const { rows } = await sql<PostRow>`select * from ledger_post(
      ${randomUUID()}, ${p.kind}, ${p.idempotencyKey}, ${hashRequest(p.request)}, ${p.actorId}, ${p.requestId},
      ${p.roomId ?? null}, ${p.reason}, ${JSON.stringify(metadata)}::jsonb,
      ${lines.map(([key]) => key)}::text[],
      ${lines.map(([, l]) => l.ref.kind)}::text[],
      ${lines.map(([, l]) => ('ownerId' in l.ref ? l.ref.ownerId : null))}::text[],
      ${lines.map(([, l]) => l.amount)}::bigint[]
    )`.execute(db);
    const row = rows[0]!;
    return {
      transactionId: row.transaction_id,
      replayed: row.replayed,
      createdAt: new Date(row.created_at),
      metadata: row.metadata,
      balances: new Map(Object.entries(row.balances).map(([k, v]) => [k, Number(v)])),
    };
  }

  async balance(ref: AccountRef, db: Kysely<Database> = this.db): Promise<number> {
    const row = await db
      .selectFrom('account_balances')
      .select('balance')
      .where('id', '=', accountId(ref))
      .executeTakeFirst();
    return row ? Number(row.balance) : 0;
  }

  async #timed<T>(kind: TransactionKind, work: () => Promise<T>): Promise<T> {
    const end = this.latency.startTimer({ kind });
    try {
      const result = await work();
      end({ outcome: 'ok' });
      return result;
    } catch (err) {
      const mapped = mapDatabaseError(err);
      end({ outcome: mapped instanceof AppError ? mapped.code : 'error' });
      throw mapped;
    }
  }
}

function mapDatabaseError(err: unknown): unknown {
  const e = err as { code?: string; constraint?: string; message?: string };
  if (
    e?.code === '23514' &&
    (e.constraint === 'accounts_balance_not_negative' || e.message?.includes('accounts_balance_not_negative'))
  ) {
    return new AppError(ErrorCode.InsufficientBalance, 'not enough tokens');
  }
  // Raised by ledger_post when a key comes back with a different request.
  if (e?.code === 'FFI01') {
    return conflict('this idempotency key was used for a different request', ErrorCode.IdempotencyKeyConflict);
  }
  return err;
}
