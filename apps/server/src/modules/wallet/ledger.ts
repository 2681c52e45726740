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
}

/**
 * Order in which a transaction locks its accounts. Every transaction uses the same total order, so
 * two transfers can never wait on each other in a cycle; shared, busy accounts (a streamer's
 * earnings, the platform's revenue) come last so their row locks are held for the shortest time.
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

/**
 * The double-entry ledger. Each operation is one database transaction that writes an immutable
 * transaction row and its entries (they must sum to zero: the database checks at commit) and moves
 * the account balances (which the database keeps from going negative). The idempotency key is
 * unique: a retried request finds its first transaction and moves nothing.
 */
export class Ledger {
  /** Accounts known to exist (committed); others are created on first use. */
  readonly #known = new Set<string>();
  /** Accounts a still-open transaction created: known only once it commits. */
  readonly #created = new WeakMap<Transaction<Database>, string[]>();

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
    const end = this.latency.startTimer({ kind });
    try {
      const created: string[] = [];
      const result = await this.db.transaction().execute(async (tx) => {
        this.#created.set(tx, created);
        return work(tx);
      });
      for (const key of created) this.#known.add(key);
      end({ outcome: 'ok' });
      return result;
    } catch (err) {
      const mapped = mapDatabaseError(err);
      end({ outcome: mapped instanceof AppError ? mapped.code : 'error' });
      throw mapped;
    }
  }

  async post(tx: Transaction<Database>, p: LedgerPost): Promise<Posted> {
    const sum = p.postings.reduce((s, x) => s + x.amount, 0);
    if (sum !== 0 || p.postings.some((x) => !Number.isSafeInteger(x.amount) || x.amount === 0)) {
      throw new Error(`unbalanced or malformed postings for ${p.kind}: ${JSON.stringify(p.postings)}`);
    }
    const requestHash = hashRequest(p.request);
    const id = randomUUID();
    const metadata = p.metadata ?? {};
    const inserted = await tx
      .insertInto('ledger_transactions')
      .values({
        id,
        kind: p.kind,
        idempotency_key: p.idempotencyKey,
        request_hash: requestHash,
        actor_id: p.actorId,
        request_id: p.requestId,
        room_id: p.roomId ?? null,
        reason: p.reason,
        metadata: JSON.stringify(metadata),
        // Millisecond precision, like the admin view's page cursor.
        created_at: new Date(),
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .returning(['id', 'created_at'])
      .executeTakeFirst();
    if (!inserted) {
      const first = await tx
        .selectFrom('ledger_transactions')
        .select(['id', 'request_hash', 'created_at', 'metadata'])
        .where('idempotency_key', '=', p.idempotencyKey)
        .executeTakeFirstOrThrow();
      if (first.request_hash !== requestHash) {
        throw conflict('this idempotency key was used for a different request', ErrorCode.IdempotencyKeyConflict);
      }
      return { transactionId: first.id, replayed: true, createdAt: first.created_at, metadata: first.metadata };
    }

    // Merge postings per account, then lock and move them in the global order.
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
    const unknown = lines.filter(([key]) => !this.#known.has(key));
    if (unknown.length > 0) {
      await tx
        .insertInto('accounts')
        .values(
          unknown.map(([key, l]) => ({
            id: key,
            kind: l.ref.kind,
            owner_id: 'ownerId' in l.ref ? l.ref.ownerId : null,
          })),
        )
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    }
    await tx
      .insertInto('ledger_entries')
      .values(lines.map(([key, l]) => ({ transaction_id: id, account_id: key, amount: l.amount })))
      .execute();
    for (const [key, l] of lines) {
      await tx
        .updateTable('accounts')
        .set({ balance: sql`balance + ${l.amount}` })
        .where('id', '=', key)
        .execute();
    }
    this.#created.get(tx)?.push(...unknown.map(([key]) => key));
    return { transactionId: id, replayed: false, createdAt: inserted.created_at, metadata };
  }

  async balance(ref: AccountRef, db: Kysely<Database> = this.db): Promise<number> {
    const row = await db.selectFrom('accounts').select('balance').where('id', '=', accountId(ref)).executeTakeFirst();
    return row ? Number(row.balance) : 0;
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
  return err;
}
