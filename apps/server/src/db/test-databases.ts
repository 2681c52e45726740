import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import { inject } from 'vitest';
import { type DatabaseHandle, migrateToLatest, openDatabase } from './database.js';

/**
 * The databases integration tests run against: the embedded PGlite always, and PostgreSQL when
 * `DATABASE_URL` is set (CI points it at the local server). Each `open()` gives a fresh, migrated
 * database that `close()` removes again: PGlite starts from the migrated template the global
 * setup built; PostgreSQL gets a schema of its own, dropped on close.
 *
 * With `FF_REQUIRE_POSTGRES=1` (CI) a missing DATABASE_URL fails instead of skipping.
 */
export interface TestDatabase {
  readonly name: 'pglite' | 'postgres';
  open(): Promise<DatabaseHandle>;
}

export function testDatabases(): TestDatabase[] {
  const list: TestDatabase[] = [{ name: 'pglite', open: openTestPglite }];
  const url = process.env.DATABASE_URL;
  if (url) list.push({ name: 'postgres', open: () => openTestPostgres(url) });
  else if (process.env.FF_REQUIRE_POSTGRES === '1') {
    throw new Error('FF_REQUIRE_POSTGRES=1 but DATABASE_URL is not set');
  }
  return list;
}

async function openTestPglite(): Promise<DatabaseHandle> {
  const template = inject('pgliteTemplate') as string | undefined;
  if (template) {
    const blob = new Blob([await readFile(template)]);
    return openDatabase({ dataDir: 'memory://', loadDataDir: blob });
  }
  const handle = await openDatabase({ dataDir: 'memory://' });
  await migrateToLatest(handle);
  return handle;
}

async function openTestPostgres(url: string): Promise<DatabaseHandle> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = await openDatabase({ url, poolSize: 1 });
  await sql`create schema ${sql.id(schema)}`.execute(admin.db);
  await admin.close();
  const handle = await openDatabase({ url, searchPath: schema, poolSize: 20 });
  await migrateToLatest(handle);
  return {
    ...handle,
    close: async () => {
      await handle.close();
      const cleanup = await openDatabase({ url, poolSize: 1 });
      await sql`drop schema ${sql.id(schema)} cascade`.execute(cleanup.db);
      await cleanup.close();
    },
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

/**
 * A whole PostgreSQL database of its own (not a schema), for tests of tools that work on a
 * database as operators give it to them (`DATABASE_URL`): backups, the doctor's command line.
 * Undefined without DATABASE_URL. `drop()` removes it (and ends its connections).
 */
export async function scratchPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const base = process.env.DATABASE_URL;
  if (!base) return undefined;
  const name = `ff_scratch_${randomBytes(6).toString('hex')}`;
  const admin = await openDatabase({ url: base, poolSize: 1 });
  try {
    await sql`create database ${sql.id(name)}`.execute(admin.db);
  } finally {
    await admin.close();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const cleanup = await openDatabase({ url: base, poolSize: 1 });
      try {
        await sql`drop database if exists ${sql.id(name)} with (force)`.execute(cleanup.db);
      } finally {
        await cleanup.close();
      }
    },
  };
}
