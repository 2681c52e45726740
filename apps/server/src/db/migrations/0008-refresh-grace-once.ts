import type { Kysely } from 'kysely';

/**
 * A refresh token presented again within the grace window (two tabs refreshing at once) is honoured
 * once: this records that it was. A further presentation is reuse and ends the session.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('refresh_tokens').addColumn('grace_used_at', 'timestamptz').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('refresh_tokens').dropColumn('grace_used_at').execute();
}
