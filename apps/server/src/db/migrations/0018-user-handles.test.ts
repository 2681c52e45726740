import { randomUUID } from 'node:crypto';
import { Migrator, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../database.js';
import { migrateToLatest } from '../database.js';
import { testDatabases } from '../test-databases.js';
import { migrationProvider } from './index.js';

describe.each(testDatabases())('migration 0018-user-handles on $name', (db) => {
  let handle: DatabaseHandle | undefined;
  afterEach(async () => {
    await handle?.close();
    handle = undefined;
  });

  it('backfills existing accounts with unique handles from their display names, oldest first', async () => {
    handle = await db.open();
    const migrator = new Migrator({ db: handle.db, provider: migrationProvider, migrationTableSchema: handle.schema });
    const down = await migrator.migrateTo('0016-recordings');
    expect(down.error).toBeUndefined();
    const names = ['Ann Lee', 'ann lee', 'ANN-LEE', 'Jo', 'Admin', '東京', 'A'.repeat(40)];
    const ids: string[] = [];
    for (const [i, name] of names.entries()) {
      const id = randomUUID();
      ids.push(id);
      await sql`insert into users (id, email, password_hash, display_name, role, language, created_at)
        values (${id}, ${`${id}@example.com`}, 'x', ${name}, 'viewer', 'en', ${new Date(Date.UTC(2025, 0, 1 + i))})`.execute(
        handle.db,
      );
    }
    await migrateToLatest(handle);
    const rows = await handle.db.selectFrom('users').select(['id', 'handle']).execute();
    const byId = new Map(rows.map((r) => [r.id, r.handle]));
    expect(ids.map((id) => byId.get(id))).toEqual([
      'ann-lee',
      'ann-lee-2',
      'ann-lee-3',
      'jo-2',
      'admin-2',
      'user',
      'a'.repeat(30),
    ]);
    // Unique and lowercase from now on.
    await expect(
      handle.db
        .updateTable('users')
        .set({ handle: 'ann-lee' })
        .where('id', '=', ids[1] as string)
        .execute(),
    ).rejects.toThrow(/users_handle_key|unique/);
    await expect(
      handle.db
        .updateTable('users')
        .set({ handle: 'Upper' })
        .where('id', '=', ids[1] as string)
        .execute(),
    ).rejects.toThrow(/users_handle_lowercase|check/);
  });
});
