import { type Kysely, sql } from 'kysely';

/**
 * The token economy's double-entry ledger. The database itself guarantees what money must never do:
 * - every transaction's entries sum to zero (deferred constraint trigger, checked at commit);
 * - entries and transactions are immutable (triggers refuse UPDATE and DELETE);
 * - balances never go negative (CHECK on accounts; only the payment-clearing account, which mirrors
 *   money received from providers, runs negative);
 * - an idempotency key moves money at most once (UNIQUE).
 * `accounts.balance` is the running sum of the account's entries, updated in the same transaction.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('studio_id', 'text', (c) => c.references('users.id').onDelete('set null'))
    .execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`kind in ('wallet', 'earnings', 'studio', 'payout_pending', 'platform_revenue', 'payment_clearing', 'payouts')`,
        ),
    )
    .addColumn('owner_id', 'text', (c) => c.references('users.id'))
    .addColumn('balance', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('accounts_balance_not_negative', sql`balance >= 0 or kind = 'payment_clearing'`)
    .execute();
  await db.schema.createIndex('accounts_owner').on('accounts').columns(['owner_id', 'kind']).execute();

  await db.schema
    .createTable('ledger_transactions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`kind in ('purchase', 'tip', 'ticket', 'call_minute', 'payout_request', 'payout_approve', 'payout_reject')`,
        ),
    )
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('request_id', 'text')
    .addColumn('room_id', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('ledger_transactions_kind')
    .on('ledger_transactions')
    .columns(['kind', 'created_at'])
    .execute();
  await db.schema
    .createIndex('ledger_transactions_actor')
    .on('ledger_transactions')
    .columns(['actor_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('ledger_entries')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('transaction_id', 'text', (c) => c.notNull().references('ledger_transactions.id'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount <> 0`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('ledger_entries_account').on('ledger_entries').columns(['account_id', 'id']).execute();
  await db.schema.createIndex('ledger_entries_transaction').on('ledger_entries').column('transaction_id').execute();

  await sql`
    create function ledger_immutable() returns trigger language plpgsql as $$
    begin
      raise exception 'ledger rows are immutable (% on %)', tg_op, tg_table_name using errcode = 'P0001';
    end $$`.execute(db);
  await sql`create trigger ledger_entries_immutable before update or delete on ledger_entries
    for each row execute function ledger_immutable()`.execute(db);
  await sql`create trigger ledger_transactions_immutable before update or delete on ledger_transactions
    for each row execute function ledger_immutable()`.execute(db);
  await sql`
    create function ledger_transaction_balanced() returns trigger language plpgsql as $$
    declare total bigint;
    begin
      select coalesce(sum(amount), 0) into total from ledger_entries where transaction_id = new.transaction_id;
      if total <> 0 then
        raise exception 'ledger transaction % does not balance (sum %)', new.transaction_id, total
          using errcode = '23514', constraint = 'ledger_transaction_balanced';
      end if;
      return null;
    end $$`.execute(db);
  await sql`create constraint trigger ledger_transaction_balanced after insert on ledger_entries
    deferrable initially deferred for each row execute function ledger_transaction_balanced()`.execute(db);

  await db.schema
    .createTable('purchases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('pack_id', 'text', (c) => c.notNull())
    .addColumn('tokens', 'integer', (c) => c.notNull().check(sql`tokens > 0`))
    .addColumn('price_cents', 'integer', (c) => c.notNull().check(sql`price_cents > 0`))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull().check(sql`provider in ('dev', 'webhook')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'completed', 'failed')`))
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('transaction_id', 'text', (c) => c.references('ledger_transactions.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .execute();

  await db.schema
    .createTable('payment_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('purchase_id', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('received_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('entitlements')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id'))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('ticket')`))
    .addColumn('price', 'integer', (c) => c.notNull())
    .addColumn('transaction_id', 'text', (c) => c.notNull().references('ledger_transactions.id'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('entitlements_one_per_room', ['user_id', 'room_id', 'kind'])
    .execute();

  await db.schema
    .createTable('payouts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source in ('earnings', 'studio')`))
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount > 0`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'approved', 'rejected')`))
    .addColumn('request_transaction_id', 'text', (c) => c.notNull().references('ledger_transactions.id'))
    .addColumn('decision_transaction_id', 'text', (c) => c.references('ledger_transactions.id'))
    .addColumn('decided_by', 'text', (c) => c.references('users.id'))
    .addColumn('note', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('decided_at', 'timestamptz')
    .execute();
  await db.schema.createIndex('payouts_status').on('payouts').columns(['status', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['payouts', 'entitlements', 'payment_events', 'purchases'])
    await db.schema.dropTable(table).execute();
  await sql`drop trigger ledger_transaction_balanced on ledger_entries`.execute(db);
  await db.schema.dropTable('ledger_entries').execute();
  await db.schema.dropTable('ledger_transactions').execute();
  await sql`drop function ledger_transaction_balanced`.execute(db);
  await sql`drop function ledger_immutable`.execute(db);
  await db.schema.dropTable('accounts').execute();
  await db.schema.alterTable('users').dropColumn('studio_id').execute();
}
