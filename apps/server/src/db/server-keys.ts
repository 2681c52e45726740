import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * A secret the server generates once and every process shares (signing keys, token secrets):
 * the first process to start inserts it, the others read what won.
 */
export async function getOrCreateServerKey(
  db: Kysely<Database>,
  name: string,
  generate: () => string,
): Promise<string> {
  await db
    .insertInto('server_keys')
    .values({ name, value: generate() })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('server_keys').select('value').where('name', '=', name).executeTakeFirstOrThrow();
  return row.value;
}

/** A key the server generated, if it did (tools that must not create keys: the doctor, backups). */
export async function readServerKey(db: Kysely<Database>, name: string): Promise<string | undefined> {
  const row = await db.selectFrom('server_keys').select('value').where('name', '=', name).executeTakeFirst();
  return row?.value;
}
