import type { Kysely } from 'kysely';

/** Four eyes: a large payout's first approval waits here for a second admin's. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('payouts')
    .addColumn('first_approved_by', 'text')
    .addColumn('first_approved_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('payouts').dropColumn('first_approved_by').dropColumn('first_approved_at').execute();
}
