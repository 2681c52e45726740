import { type Kysely, sql } from 'kysely';

/**
 * Reports: a signed-in user reports a chat message, a user or a broadcast; moderators work the
 * queue (open → claimed → resolved with an action). One open report per reporter and target.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('reports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('reporter_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('target_type', 'text', (c) => c.notNull().check(sql`target_type in ('message', 'user', 'broadcast')`))
    .addColumn('target_key', 'text', (c) => c.notNull())
    .addColumn('room_id', 'text')
    .addColumn('message_id', 'bigint')
    .addColumn('subject_user_id', 'text')
    .addColumn('message_text', 'text')
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'claimed', 'resolved')`))
    .addColumn('claimed_by', 'text')
    .addColumn('claimed_at', 'timestamptz')
    .addColumn('resolved_by', 'text')
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('action', 'text')
    .addColumn('resolution', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index reports_one_open on reports (reporter_id, target_key) where status <> 'resolved'`.execute(
    db,
  );
  await db.schema.createIndex('reports_status').on('reports').columns(['status', 'created_at']).execute();
  await db.schema.createIndex('reports_reporter').on('reports').columns(['reporter_id', 'created_at']).execute();
  await db.schema.createIndex('reports_subject').on('reports').columns(['subject_user_id', 'created_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('reports').execute();
}
