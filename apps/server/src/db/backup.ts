import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { sql } from 'kysely';
import * as tar from 'tar';
import { z } from 'zod';
import { pgliteDir, recordingsDir } from './data-dirs.js';
import { type DatabaseHandle, openDatabase } from './database.js';
import { runPgTool } from './pg-tools.js';

/** Bumped when the archive's layout changes; restore refuses formats it does not know. */
export const BACKUP_FORMAT = 1;
const MANIFEST = 'manifest.json';
const PG_DUMP = 'database.pgdump';
const PGLITE_DUMP = 'pglite.tar';
const RECORDINGS = 'recordings';

/** Settings whose secrets live outside the database: a backup cannot hold them. */
const SECRETS_FROM_ENVIRONMENT = ['ACCESS_TOKEN_SECRET', 'GRANT_PRIVATE_KEY', 'SFU_INTERNAL_SECRET'] as const;

export const BackupManifest = z.object({
  format: z.literal(BACKUP_FORMAT),
  createdAt: z.string(),
  serverVersion: z.string(),
  database: z.enum(['pglite', 'postgres']),
  /** Migrations the database had run. */
  migrations: z.array(z.string()),
  /** Rows per table at backup time (compared after a restore). */
  rows: z.record(z.string(), z.number()),
  /** SHA-256 of every file in the archive but the manifest, by path. */
  files: z.record(z.string(), z.string()),
  /** Secrets set in the environment (not in the database): keep that file backed up too. */
  secretsFromEnvironment: z.array(z.string()),
  recordings: z.boolean(),
});
export type BackupManifest = z.infer<typeof BackupManifest>;

export interface BackupSource {
  /** PostgreSQL connection string; the embedded database under `dataDir` when unset. */
  databaseUrl: string | undefined;
  dataDir: string;
  serverVersion: string;
  /** Which of the secrets are set in the environment (noted in the manifest). */
  env: Record<string, string | undefined>;
}

export class BackupError extends Error {}

/** Rows of every table of the schema (exact counts). */
export async function tableRows(handle: DatabaseHandle): Promise<Record<string, number>> {
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = ${handle.schema} and table_type = 'BASE TABLE' order by table_name`.execute(handle.db);
  const rows: Record<string, number> = {};
  for (const { table_name } of tables.rows) {
    const r = await sql<{
      n: string;
    }>`select count(*) as n from ${sql.table(`${handle.schema}.${table_name}`)}`.execute(handle.db);
    rows[table_name] = Number(r.rows[0]!.n);
  }
  return rows;
}

async function appliedMigrations(handle: DatabaseHandle): Promise<string[]> {
  const r = await sql<{
    name: string;
  }>`select name from ${sql.table(`${handle.schema}.kysely_migration`)} order by name`
    .execute(handle.db)
    .catch(() => ({ rows: [] as { name: string }[] }));
  return r.rows.map((row) => row.name);
}

function sha256(file: string): Promise<string> {
  return new Promise((resolveHash, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('end', () => resolveHash(hash.digest('hex')))
      .on('error', reject);
  });
}

async function filesUnder(root: string, dir = root): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(root, path)));
    else if (entry.isFile()) out.push(path.slice(root.length + 1));
  }
  return out;
}

/**
 * Back up the platform into one `.tar.gz`: the database (pg_dump's custom format for PostgreSQL,
 * a dump of the data directory for the embedded PGlite — whose server must be stopped), which
 * holds the server keys (`server_keys`), and `DATA_DIR/recordings` when it exists. A manifest
 * records the row counts and every file's SHA-256, checked again by `restoreBackup`.
 */
export async function createBackup(source: BackupSource, out: string): Promise<BackupManifest> {
  const staging = await mkdtemp(join(tmpdir(), 'ff-backup-'));
  try {
    let handle: DatabaseHandle;
    if (source.databaseUrl) {
      handle = await openDatabase({ url: source.databaseUrl, poolSize: 1 });
    } else {
      const dir = pgliteDir(source.dataDir);
      if (!existsSync(dir)) throw new BackupError(`there is no embedded database at ${dir} (DATA_DIR)`);
      handle = await openDatabase({ dataDir: dir });
    }
    let rows: Record<string, number>;
    let migrations: string[];
    try {
      rows = await tableRows(handle);
      migrations = await appliedMigrations(handle);
      if (handle.kind === 'postgres') {
        // One consistent snapshot, while the platform keeps running.
        await runPgTool(
          'pg_dump',
          ['--format=custom', '--no-owner', '--no-privileges', `--file=${join(staging, PG_DUMP)}`],
          source.databaseUrl!,
        );
      } else {
        const blob = await handle.dumpDataDir!();
        await writeFile(join(staging, PGLITE_DUMP), Buffer.from(await blob.arrayBuffer()));
      }
    } finally {
      await handle.close();
    }
    const recordings = recordingsDir(source.dataDir);
    const hasRecordings = existsSync(recordings) && (await stat(recordings)).isDirectory();
    if (hasRecordings) await cp(recordings, join(staging, RECORDINGS), { recursive: true });

    const files: Record<string, string> = {};
    for (const file of await filesUnder(staging)) files[file] = await sha256(join(staging, file));
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      createdAt: new Date().toISOString(),
      serverVersion: source.serverVersion,
      database: source.databaseUrl ? 'postgres' : 'pglite',
      migrations,
      rows,
      files,
      secretsFromEnvironment: SECRETS_FROM_ENVIRONMENT.filter((k) => source.env[k] !== undefined),
      recordings: hasRecordings,
    };
    await writeFile(join(staging, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    await mkdir(dirname(resolve(out)), { recursive: true });
    // Written next to its destination, then renamed: a half-written archive never has the final name.
    const partial = `${resolve(out)}.partial`;
    await tar.c({ gzip: true, file: partial, cwd: staging, portable: true }, [MANIFEST, ...Object.keys(files)]);
    await rename(partial, resolve(out));
    return manifest;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

export interface RestoreTarget {
  databaseUrl: string | undefined;
  dataDir: string;
  /** Replace what is there (PostgreSQL: drop the platform's tables; PGlite: set the old directory aside). */
  force: boolean;
}

export interface RestoreResult {
  manifest: BackupManifest;
  /** Rows per table after the restore (equal to the manifest's, or restore fails). */
  rows: Record<string, number>;
  /** Where the replaced embedded database or recordings were moved, if anything was replaced. */
  setAside: string[];
}

/** Unpack and check an archive: a known format, every file present with its recorded SHA-256. */
async function unpack(file: string, into: string): Promise<BackupManifest> {
  try {
    await tar.x({ file, cwd: into, strict: true });
  } catch (err) {
    throw new BackupError(`${file} is not a FusionFlow backup (tar.gz): ${(err as Error).message}`);
  }
  let manifest: BackupManifest;
  try {
    manifest = BackupManifest.parse(JSON.parse(await readFile(join(into, MANIFEST), 'utf8')));
  } catch (err) {
    throw new BackupError(`${file} has no valid manifest (format ${BACKUP_FORMAT}): ${(err as Error).message}`);
  }
  for (const [path, hash] of Object.entries(manifest.files)) {
    const full = join(into, path);
    if (!existsSync(full) || (await sha256(full)) !== hash) {
      throw new BackupError(`${file} is damaged: ${path} is missing or does not match its checksum`);
    }
  }
  return manifest;
}

/**
 * Restore an archive made by `createBackup` into the configured database (of the same kind) and
 * DATA_DIR. Refuses to overwrite a database that has data unless `force`; checks afterwards that
 * every table has the rows it had at backup time.
 */
export async function restoreBackup(file: string, target: RestoreTarget): Promise<RestoreResult> {
  const staging = await mkdtemp(join(tmpdir(), 'ff-restore-'));
  const setAside: string[] = [];
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  try {
    const manifest = await unpack(file, staging);
    const kind = target.databaseUrl ? 'postgres' : 'pglite';
    if (manifest.database !== kind) {
      throw new BackupError(
        `this backup is of ${manifest.database === 'pglite' ? 'the embedded database' : 'PostgreSQL'}, but the settings name ${kind === 'pglite' ? 'the embedded database (DATABASE_URL is unset)' : 'PostgreSQL (DATABASE_URL)'}`,
      );
    }
    let handle: DatabaseHandle;
    if (target.databaseUrl) {
      handle = await openDatabase({ url: target.databaseUrl, poolSize: 1 });
      try {
        const existing = await tableRows(handle);
        if (Object.keys(existing).length > 0 && !target.force) {
          throw new BackupError(
            `the database already has ${Object.keys(existing).length} tables (users: ${existing.users ?? 0} rows); restore into an empty database, or pass --force to replace them`,
          );
        }
      } finally {
        await handle.close();
      }
      await runPgTool(
        'pg_restore',
        [
          '--no-owner',
          '--no-privileges',
          '--exit-on-error',
          '--single-transaction',
          ...(target.force ? ['--clean', '--if-exists'] : []),
          `--dbname=${new URL(target.databaseUrl).pathname.slice(1)}`,
          join(staging, PG_DUMP),
        ],
        target.databaseUrl,
      );
      handle = await openDatabase({ url: target.databaseUrl, poolSize: 1 });
    } else {
      const dir = pgliteDir(target.dataDir);
      if (existsSync(dir) && (await readdir(dir)).length > 0) {
        if (!target.force) {
          throw new BackupError(`${dir} already holds a database; stop the server and pass --force to replace it`);
        }
        await rename(dir, `${dir}.replaced-${stamp}`);
        setAside.push(`${dir}.replaced-${stamp}`);
      }
      const dump = await readFile(join(staging, PGLITE_DUMP));
      handle = await openDatabase({ dataDir: dir, loadDataDir: new Blob([dump]) });
    }
    let rows: Record<string, number>;
    try {
      rows = await tableRows(handle);
    } finally {
      await handle.close();
    }
    const differ = Object.keys({ ...manifest.rows, ...rows }).filter((t) => manifest.rows[t] !== rows[t]);
    if (differ.length > 0) {
      throw new BackupError(
        `the restored database differs from the backup in ${differ.map((t) => `${t} (${rows[t] ?? 0} rows, expected ${manifest.rows[t] ?? 0})`).join(', ')}`,
      );
    }
    if (manifest.recordings) {
      const dir = recordingsDir(target.dataDir);
      if (existsSync(dir)) {
        await rename(dir, `${dir}.replaced-${stamp}`);
        setAside.push(`${dir}.replaced-${stamp}`);
      }
      await mkdir(dirname(dir), { recursive: true });
      await cp(join(staging, RECORDINGS), dir, { recursive: true });
    }
    return { manifest, rows, setAside };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
