import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tools } from '../../../../test/support/tools.js';
import { connectPeer } from '../modules/signaling/test-signaling.js';
import { ledgerInvariants } from '../modules/wallet/test-ledger.js';
import { runServerTool } from '../test-process.js';
import { startTestPlatform, type TestPlatform } from '../test-support.js';
import { tableRows } from './backup.js';
import { pgliteDir, recordingsDir } from './data-dirs.js';
import { type DatabaseHandle, migrateToLatest, openDatabase } from './database.js';
import { scratchPostgresDatabase } from './test-databases.js';

const pgDump = tools.pgDump();
const pgRestore = tools.pgRestore();
const PASSWORD = 'correct horse battery';

interface Filled {
  rows: Record<string, number>;
  balances: Map<string, number>;
  email: string;
  /** An access token issued before the backup: valid after a restore only if the keys came back. */
  accessToken: string;
}

/** Users, money (purchases, tips), chat: the platform as people left it. */
async function fill(t: TestPlatform): Promise<Filled> {
  const streamer = await t.signUp('Backup Streamer', { role: 'streamer' });
  const viewer = await t.signUp('Backup Viewer');
  await t.signUp('Backup Bystander');
  for (let i = 0; i < 3; i++) {
    const res = await t.call('POST', '/api/wallet/purchases', {
      token: viewer.token,
      headers: { 'idempotency-key': randomUUID() },
      body: { packId: 'starter', expectedPriceCents: 499, provider: 'dev' },
    });
    expect(res.status).toBe(201);
  }
  const room = await t.call('POST', '/api/rooms', {
    token: streamer.token,
    body: { kind: 'live', title: 'Backed up' },
  });
  for (const amount of [10, 25, 40]) {
    const res = await t.call('POST', `/api/rooms/${room.body.id}/tips`, {
      token: viewer.token,
      headers: { 'idempotency-key': randomUUID() },
      body: { amount },
    });
    expect(res.status).toBe(201);
  }
  const call = await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'call', title: 'Chatty' } });
  const url = await t.platform.listen();
  const peer = await connectPeer(url, viewer.token);
  try {
    peer.emit('join', { roomId: call.body.id, language: 'en' });
    await peer.next('joined');
    for (let i = 0; i < 4; i++) {
      const ack = await peer.emitWithAck('chat:send', {
        roomId: call.body.id,
        text: `message ${i}`,
        clientId: `c${i}`,
      });
      expect(ack.ok).toBe(true);
    }
  } finally {
    peer.close();
  }
  const rows = await tableRows(t.database);
  expect(rows).toMatchObject({ users: 3, chat_messages: 4 });
  expect(rows.ledger_transactions).toBeGreaterThanOrEqual(6);
  const inv = await ledgerInvariants(t.database);
  expect(inv).toMatchObject({ total: 0, mismatched: [], negative: [] });
  return { rows, balances: inv.balances, email: viewer.email, accessToken: viewer.token };
}

/** After a restore: same rows, the same balanced ledger, sign-in and old sessions work. */
async function expectRestored(t: TestPlatform, before: Filled): Promise<void> {
  expect(await tableRows(t.database)).toEqual(before.rows);
  const inv = await ledgerInvariants(t.database);
  expect(inv).toMatchObject({ total: 0, mismatched: [], negative: [], unbalancedTransactions: 0 });
  expect(inv.balances).toEqual(before.balances);
  const login = await t.call('POST', '/api/auth/login', { body: { email: before.email, password: PASSWORD } });
  expect(login.status).toBe(200);
  // The access-token secret is a server key in the database: a token from before the backup still works.
  expect((await t.call('GET', '/api/wallet', { token: before.accessToken })).body.balance).toBe(300 - 75);
}

const platformOn = (open: () => Promise<DatabaseHandle>, overrides = {}) =>
  startTestPlatform({ name: 'pglite', open }, { port: 0, paymentsDevProvider: 'true', ...overrides });

describe('backup and restore of the embedded database (PGlite)', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('fills, backs up, wipes, restores and compares; refuses to overwrite or to read a damaged archive', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ff-backup-data-'));
    const out = mkdtempSync(join(tmpdir(), 'ff-backup-out-'));
    dirs.push(dataDir, out);
    const open = async () => {
      const handle = await openDatabase({ dataDir: pgliteDir(dataDir) });
      await migrateToLatest(handle);
      return handle;
    };
    let t = await platformOn(open);
    let before: Filled;
    try {
      before = await fill(t);
    } finally {
      await t.close();
    }
    // A local recording, kept under DATA_DIR/recordings.
    mkdirSync(join(recordingsDir(dataDir), 'room-1'), { recursive: true });
    const recording = Buffer.from(Array.from({ length: 4096 }, (_, i) => i % 251));
    writeFileSync(join(recordingsDir(dataDir), 'room-1', 'take-1.ivf'), recording);

    const archive = join(out, 'backup.tar.gz');
    // PORT 1: nothing listens there, so the tools see no running control plane.
    const env = { DATA_DIR: dataDir, PORT: '1' };
    const backup = await runServerTool('backup', ['--out', archive], env);
    expect(backup.output).toContain(`Backup written to ${archive}`);
    expect(backup.output).toContain('recordings: included');
    expect(backup.code).toBe(0);

    // Into a DATA_DIR that has a database: refused, nothing touched.
    const refused = await runServerTool('restore', [archive], env);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('already holds a database');

    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir);
    const restored = await runServerTool('restore', [archive], env);
    expect(restored.output).toContain('every row count as at the backup');
    expect(restored.code).toBe(0);
    expect(readFileSync(join(recordingsDir(dataDir), 'room-1', 'take-1.ivf')).equals(recording)).toBe(true);

    t = await platformOn(async () => openDatabase({ dataDir: pgliteDir(dataDir) }));
    try {
      await expectRestored(t, before);
    } finally {
      await t.close();
    }

    // A damaged archive is refused before anything is replaced.
    const damaged = join(out, 'damaged.tar.gz');
    const bytes = readFileSync(archive);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = bytes[middle]! ^ 0xff;
    writeFileSync(damaged, bytes);
    const bad = await runServerTool('restore', [damaged, '--force'], env);
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/not a FusionFlow backup|damaged/);
    expect(existsSync(pgliteDir(dataDir))).toBe(true);
  }, 180_000);
});

describe.skipIf(!process.env.DATABASE_URL || !pgDump.available || !pgRestore.available)(
  'backup and restore of PostgreSQL (pg_dump, pg_restore)',
  () => {
    const cleanups: (() => Promise<void> | void)[] = [];
    afterAll(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    it('fills, backs up live, restores into an empty database and compares; refuses a kind mismatch', async () => {
      const source = (await scratchPostgresDatabase())!;
      cleanups.push(() => source.drop());
      const out = mkdtempSync(join(tmpdir(), 'ff-backup-out-'));
      cleanups.push(() => rmSync(out, { recursive: true, force: true }));
      const open =
        (url: string, migrate = true) =>
        async () => {
          const handle = await openDatabase({ url, poolSize: 5 });
          if (migrate) await migrateToLatest(handle);
          return handle;
        };
      let t = await platformOn(open(source.url));
      const archive = join(out, 'pg.tar.gz');
      let before: Filled;
      try {
        before = await fill(t);
        // Live: the platform keeps running while pg_dump takes its snapshot.
        const backup = await runServerTool('backup', ['--out', archive], { DATABASE_URL: source.url, DATA_DIR: out });
        expect(backup.output).toContain('database: postgres');
        expect(backup.code).toBe(0);
      } finally {
        await t.close();
      }

      const target = (await scratchPostgresDatabase())!;
      cleanups.push(() => target.drop());
      const env = { DATABASE_URL: target.url, DATA_DIR: out, PORT: '1' };
      const restored = await runServerTool('restore', [archive], env);
      expect(restored.output).toContain('every row count as at the backup');
      expect(restored.code).toBe(0);
      t = await platformOn(open(target.url, false));
      try {
        await expectRestored(t, before);
      } finally {
        await t.close();
      }

      // Again into the now full database: refused without --force, replaced with it.
      const again = await runServerTool('restore', [archive], env);
      expect(again.code).toBe(1);
      expect(again.output).toContain('pass --force');
      const forced = await runServerTool('restore', [archive, '--force'], env);
      expect(forced.code).toBe(0);

      // A PostgreSQL backup never lands in an embedded database by mistake.
      const mismatch = await runServerTool('restore', [archive], { DATA_DIR: out, PORT: '1' });
      expect(mismatch.code).toBe(1);
      expect(mismatch.output).toContain('this backup is of PostgreSQL');
    }, 180_000);
  },
);
