import { handleCandidates } from '@fusionflow/protocol';
import { type Kysely, sql } from 'kysely';

/**
 * Channels: every account gets a handle (its permanent address, `/c/<handle>`), unique and stored
 * lowercase. Existing accounts get one derived from their display name, oldest account first, made
 * unique with a numeric suffix (`ann`, `ann-2`, …).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').addColumn('handle', 'text').execute();
  const { rows: users } = await sql<{ id: string; display_name: string }>`
    select id, display_name from users order by created_at, id`.execute(db);
  const taken = new Set<string>();
  const assigned: { id: string; handle: string }[] = [];
  for (const u of users) {
    let handle: string | undefined;
    for (let from = 1; !handle; from += 50) {
      handle = handleCandidates(u.display_name, 50, from).find((h) => !taken.has(h));
    }
    taken.add(handle);
    assigned.push({ id: u.id, handle });
  }
  for (let i = 0; i < assigned.length; i += 500) {
    const chunk = assigned.slice(i, i + 500);
    const values = sql.join(chunk.map((a) => sql`(${a.id}, ${a.handle})`));
    await sql`update users set handle = v.handle from (values ${values}) as v(id, handle) where users.id = v.id`.execute(
      db,
    );
  }
  await db.schema
    .alterTable('users')
    .alterColumn('handle', (c) => c.setNotNull())
    .execute();
  await db.schema.alterTable('users').addUniqueConstraint('users_handle_key', ['handle']).execute();
  await db.schema
    .alterTable('users')
    .addCheckConstraint('users_handle_lowercase', sql`handle = lower(handle)`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('users').dropColumn('handle').execute();
}
