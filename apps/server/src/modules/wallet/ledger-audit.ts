import { Gauge, type Logger, type Registry } from '@fusionflow/kit';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.js';

/** Accounts whose balance is the sum of their entries (no running balance to drift). */
const PLATFORM_ACCOUNTS = ['platform_revenue', 'payment_clearing', 'payouts'];

export interface LedgerAuditResult {
  /** Sum over every entry: 0 in a sound ledger. */
  total: number;
  /** Accounts whose running balance differs from the sum of their entries. */
  drifted: number;
  /** Accounts below zero that may not be (all but payment clearing). */
  negative: number;
  checkedAt: Date;
}

/**
 * Re-checks the ledger's invariants from the database now and then (the schema enforces them on
 * every write; this catches what a manual edit, a restore gone wrong or a bug in a migration would
 * break) and publishes them as `ledger_audit_violations{check}` for the alert. One full scan of
 * the entries per run.
 */
export class LedgerAudit {
  readonly #violations: Gauge<'check'>;
  readonly #lastRun: Gauge;
  #timer: NodeJS.Timeout | undefined;
  #last: LedgerAuditResult | undefined;

  constructor(
    private readonly o: { db: Kysely<Database>; metrics: Registry; intervalSeconds: number; logger: Logger },
  ) {
    this.#violations = new Gauge({
      name: 'ledger_audit_violations',
      help: 'Ledger invariants broken at the last audit: total (tokens the ledger is off by), drift (accounts whose balance is not the sum of their entries), negative (accounts below zero)',
      labelNames: ['check'] as const,
      registers: [o.metrics],
    });
    this.#lastRun = new Gauge({
      name: 'ledger_audit_last_run_timestamp_seconds',
      help: 'When the ledger audit last completed (unix seconds; 0 before the first)',
      registers: [o.metrics],
    });
    this.#lastRun.set(0);
  }

  get last(): LedgerAuditResult | undefined {
    return this.#last;
  }

  async run(): Promise<LedgerAuditResult> {
    const { db } = this.o;
    const total = await db
      .selectFrom('ledger_entries')
      .select(sql<string>`coalesce(sum(amount), 0)`.as('total'))
      .executeTakeFirstOrThrow();
    const drifted = await sql<{ n: string }>`
      select count(*) as n from accounts a
      left join (select account_id, sum(amount) as s from ledger_entries group by account_id) e on e.account_id = a.id
      where a.kind not in (${sql.join(PLATFORM_ACCOUNTS)}) and a.balance <> coalesce(e.s, 0)`.execute(db);
    const negative = await db
      .selectFrom('accounts')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('balance', '<', 0 as never)
      .where('kind', '<>', 'payment_clearing')
      .executeTakeFirstOrThrow();
    const result: LedgerAuditResult = {
      total: Number(total.total),
      drifted: Number(drifted.rows[0]?.n ?? 0),
      negative: Number(negative.n),
      checkedAt: new Date(),
    };
    this.#violations.set({ check: 'total' }, Math.abs(result.total));
    this.#violations.set({ check: 'drift' }, result.drifted);
    this.#violations.set({ check: 'negative' }, result.negative);
    this.#lastRun.set(Math.floor(result.checkedAt.getTime() / 1000));
    if (result.total !== 0 || result.drifted > 0 || result.negative > 0) {
      this.o.logger.error({ ...result }, 'the ledger audit found broken invariants');
    }
    this.#last = result;
    return result;
  }

  /** Audit now and every `intervalSeconds` (0: never on its own). */
  start(): void {
    if (this.o.intervalSeconds <= 0 || this.#timer) return;
    const tick = () =>
      this.run().catch((err: unknown) => this.o.logger.warn({ err }, 'the ledger audit could not run'));
    void tick();
    this.#timer = setInterval(tick, this.o.intervalSeconds * 1000);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
