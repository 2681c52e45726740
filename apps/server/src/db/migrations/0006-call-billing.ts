import { type Kysely, sql } from 'kysely';

/**
 * Private calls billed per started minute. A session is one payer's stay in a paid call room;
 * each minute charged is a `call_minute` ledger transaction whose idempotency key names the session
 * and the minute (`call:<session>:<n>`), so no retry, restart or second process can charge a
 * minute twice. At most one open session per payer and room.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('call_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id'))
    .addColumn('payer_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('streamer_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('price_per_minute', 'integer', (c) => c.notNull().check(sql`price_per_minute > 0`))
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    /** The paid time runs out here (the next minute is charged then, if both are connected). */
    .addColumn('paid_until', 'timestamptz', (c) => c.notNull())
    /** Set while the payer or the streamer is disconnected: the meter stands still. */
    .addColumn('paused_at', 'timestamptz')
    .addColumn('minutes_charged', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('tokens_charged', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('ended_at', 'timestamptz')
    .addColumn('end_reason', 'text')
    .execute();
  await sql`create unique index call_sessions_one_open on call_sessions (room_id, payer_id) where ended_at is null`.execute(
    db,
  );
  await db.schema.createIndex('call_sessions_payer').on('call_sessions').columns(['payer_id', 'started_at']).execute();
  await db.schema
    .createIndex('call_sessions_streamer')
    .on('call_sessions')
    .columns(['streamer_id', 'started_at'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('call_sessions').execute();
}
