import { type Kysely, sql } from 'kysely';

/**
 * The audit trail of governance: every moderator and admin action (room and platform), role
 * change, suspension and payout decision, with who, when, what, the target, the reason and the
 * request id. Append-only like the ledger: triggers refuse UPDATE, DELETE and TRUNCATE, and no code
 * path writes anything but INSERT.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('actor_id', 'text')
    .addColumn('actor_role', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) =>
      c.notNull().check(sql`target_type in ('user', 'room', 'message', 'payout', 'report', 'platform')`),
    )
    .addColumn('target_id', 'text')
    .addColumn('room_id', 'text')
    .addColumn('reason', 'text')
    .addColumn('request_id', 'text')
    .addColumn('details', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .execute();
  await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['actor_id', 'id']).execute();
  await db.schema.createIndex('audit_events_target').on('audit_events').columns(['target_id', 'id']).execute();
  await db.schema.createIndex('audit_events_room').on('audit_events').columns(['room_id', 'id']).execute();
  await db.schema.createIndex('audit_events_action').on('audit_events').columns(['action', 'id']).execute();
  await sql`
    create function audit_append_only() returns trigger language plpgsql as $$
    begin
      raise exception 'audit events are append-only (% on %)', tg_op, tg_table_name using errcode = 'P0001';
    end $$`.execute(db);
  await sql`create trigger audit_events_append_only before update or delete on audit_events
    for each row execute function audit_append_only()`.execute(db);
  await sql`create trigger audit_events_no_truncate before truncate on audit_events
    for each statement execute function audit_append_only()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('audit_events').execute();
  await sql`drop function audit_append_only()`.execute(db);
}
