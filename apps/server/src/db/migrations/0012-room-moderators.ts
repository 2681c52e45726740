import { type Kysely, sql } from 'kysely';

/** Channel moderators: accounts a room's owner appointed to moderate that room (and no other). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('room_moderators')
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('added_by', 'text', (c) => c.notNull())
    .addColumn('added_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('room_moderators_pk', ['room_id', 'user_id'])
    .execute();
  await db.schema.createIndex('room_moderators_user').on('room_moderators').column('user_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('room_moderators').execute();
}
