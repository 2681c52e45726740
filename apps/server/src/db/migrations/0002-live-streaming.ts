import { type Kysely, sql } from 'kysely';

/** Stream keys for encoders (OBS): one per live room, stored as a SHA-256 hash. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('stream_keys')
    .addColumn('room_id', 'text', (c) => c.primaryKey().references('rooms.id').onDelete('cascade'))
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('stream_keys').execute();
}
