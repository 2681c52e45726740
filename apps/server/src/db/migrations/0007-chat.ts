import { type Kysely, sql } from 'kysely';

/**
 * Chat: messages (one per sender and client id, so a retry never stores twice), reactions, soft
 * deletions, room restrictions (mutes and bans), room chat settings, the moderation audit trail,
 * and the translation cache shared by every server process (keyed by language pair and the hash of
 * the original text, so history finds a message's translation without a column per language).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('chat_messages')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id'))
    .addColumn('author_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('author_name', 'text', (c) => c.notNull())
    .addColumn('author_moderator', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('text_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('deleted_at', 'timestamptz')
    .addColumn('deleted_by', 'text')
    .execute();
  await db.schema
    .createIndex('chat_messages_client')
    .unique()
    .on('chat_messages')
    .columns(['room_id', 'author_id', 'client_id'])
    .execute();
  await db.schema.createIndex('chat_messages_room').on('chat_messages').columns(['room_id', 'id']).execute();

  await db.schema
    .createTable('chat_reactions')
    .addColumn('message_id', 'bigint', (c) => c.notNull().references('chat_messages.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('emoji', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('chat_reactions_pk', ['message_id', 'emoji', 'user_id'])
    .execute();

  await db.schema
    .createTable('chat_restrictions')
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id'))
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('mute', 'ban')`))
    /** Null: until lifted (bans). */
    .addColumn('until', 'timestamptz')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('chat_restrictions_pk', ['room_id', 'user_id', 'kind'])
    .execute();

  await db.schema
    .createTable('chat_room_settings')
    .addColumn('room_id', 'text', (c) => c.primaryKey().references('rooms.id'))
    .addColumn('slow_mode_seconds', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('blocked_words', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('updated_by', 'text')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('chat_moderation_actions')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id'))
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_user_id', 'text')
    .addColumn('message_id', 'bigint')
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('chat_moderation_actions_room')
    .on('chat_moderation_actions')
    .columns(['room_id', 'id'])
    .execute();

  await db.schema
    .createTable('translation_cache')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('text_hash', 'text', (c) => c.notNull())
    .addColumn('translated', 'text', (c) => c.notNull())
    .addColumn('engine', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('translation_cache_pk', ['source', 'target', 'text_hash'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'translation_cache',
    'chat_moderation_actions',
    'chat_room_settings',
    'chat_restrictions',
    'chat_reactions',
    'chat_messages',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
