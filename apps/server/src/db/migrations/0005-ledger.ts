import { type Kysely, sql } from 'kysely';

/**
 * The token economy's double-entry ledger. The database itself guarantees what money must never do:
 * - every transaction's entries sum to zero (deferred constraint trigger, checked at commit);
 * - entries and transactions are immutable (triggers refuse UPDATE and DELETE);
 * - balances with a rule never go negative (CHECK on accounts.balance);
 * - an idempotency key moves money at most once (UNIQUE).
 *
 * Accounts that must never go negative (wallets, earnings, studio earnings, pending payouts) keep a
 * running `balance`, updated under a row lock in the same transaction as their entries. The
 * platform's accounts (revenue, payment clearing, payouts) have no such rule, so they take no lock:
 * every tip would otherwise queue on the platform-revenue row. Their balance is the sum of their
 * entries; the view `account_balances` gives every account's balance either way.
 *
 * `ledger_post` writes one transaction in a single round trip: the idempotent insert, the entries and
 * the balance updates, locking accounts in the order given (the caller's global order).
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
  await sql`create index ledger_entries_account_amount on ledger_entries (account_id) include (amount)`.execute(db);
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

  await sql`
    create view account_balances as
    select a.id, a.kind, a.owner_id,
      case when a.kind in ('platform_revenue', 'payment_clearing', 'payouts')
        then coalesce((select sum(e.amount) from ledger_entries e where e.account_id = a.id), 0)::bigint
        else a.balance end as balance
    from accounts a`.execute(db);

  await sql`
    create function ledger_post(
      p_id text, p_kind text, p_key text, p_hash text, p_actor text, p_request text, p_room text,
      p_reason text, p_metadata jsonb, p_accounts text[], p_kinds text[], p_owners text[], p_amounts bigint[]
    ) returns table (transaction_id text, replayed boolean, created_at timestamptz, metadata jsonb, balances jsonb)
    language plpgsql as $$
    declare
      earlier record;
      at timestamptz := date_trunc('milliseconds', now());
      result jsonb := '{}'::jsonb;
      new_balance bigint;
    begin
      insert into ledger_transactions (id, kind, idempotency_key, request_hash, actor_id, request_id, room_id, reason, metadata, created_at)
      values (p_id, p_kind, p_key, p_hash, p_actor, p_request, p_room, p_reason, p_metadata, at)
      on conflict (idempotency_key) do nothing;
      if not found then
        select t.id, t.request_hash, t.created_at, t.metadata into earlier
          from ledger_transactions t where t.idempotency_key = p_key;
        if earlier.request_hash <> p_hash then
          raise exception 'idempotency key % was used for a different request', p_key using errcode = 'FFI01';
        end if;
        return query select earlier.id, true, earlier.created_at, earlier.metadata, '{}'::jsonb;
        return;
      end if;
      for i in 1 .. coalesce(array_length(p_accounts, 1), 0) loop
        insert into accounts (id, kind, owner_id) values (p_accounts[i], p_kinds[i], p_owners[i])
        on conflict (id) do nothing;
      end loop;
      insert into ledger_entries (transaction_id, account_id, amount, created_at)
      select p_id, u.account, u.amount, at from unnest(p_accounts, p_amounts) as u(account, amount);
      for i in 1 .. coalesce(array_length(p_accounts, 1), 0) loop
        if p_kinds[i] not in ('platform_revenue', 'payment_clearing', 'payouts') then
          update accounts set balance = balance + p_amounts[i] where id = p_accounts[i] returning balance into new_balance;
          result := result || jsonb_build_object(p_accounts[i], new_balance);
        end if;
      end loop;
      return query select p_id, false, at, p_metadata, result;
    end $$`.execute(db);

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
  await sql`drop function ledger_post`.execute(db);
  await sql`drop view account_balances`.execute(db);
  await sql`drop trigger ledger_transaction_balanced on ledger_entries`.execute(db);
  await db.schema.dropTable('ledger_entries').execute();
  await db.schema.dropTable('ledger_transactions').execute();
  await sql`drop function ledger_transaction_balanced`.execute(db);
  await sql`drop function ledger_immutable`.execute(db);
  await db.schema.dropTable('accounts').execute();
  await db.schema.alterTable('users').dropColumn('studio_id').execute();
}
