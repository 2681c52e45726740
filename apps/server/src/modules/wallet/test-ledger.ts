import { sql } from 'kysely';
import type { DatabaseHandle } from '../../db/database.js';

/**
 * The ledger's invariants, read straight from the database: every account's balance (the running
 * balance, or the sum of entries for platform accounts) equals the sum of its entries, no balance is
 * negative except payment clearing, every transaction sums to zero and the whole ledger sums to zero.
 */
export async function ledgerInvariants(database: DatabaseHandle) {
  const { db } = database;
  const accounts = await db.selectFrom('account_balances').select(['id', 'kind', 'balance']).execute();
  const sums = await db
    .selectFrom('ledger_entries')
    .select(['account_id', sql<number>`sum(amount)`.as('sum')])
    .groupBy('account_id')
    .execute();
  const unbalanced = await db
    .selectFrom('ledger_entries')
    .select(['transaction_id', sql<number>`sum(amount)`.as('sum')])
    .groupBy('transaction_id')
    .having(sql`sum(amount)`, '<>', 0)
    .execute();
  const sumOf = new Map(sums.map((s) => [s.account_id, Number(s.sum)]));
  return {
    total: accounts.reduce((s, a) => s + Number(a.balance), 0),
    mismatched: accounts.filter((a) => Number(a.balance) !== (sumOf.get(a.id) ?? 0)).map((a) => a.id),
    negative: accounts.filter((a) => Number(a.balance) < 0 && a.kind !== 'payment_clearing').map((a) => a.id),
    unbalancedTransactions: unbalanced.length,
    balances: new Map(accounts.map((a) => [a.id, Number(a.balance)])),
  };
}
