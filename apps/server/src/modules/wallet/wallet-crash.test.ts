import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { type DatabaseHandle, openDatabase } from '../../db/database.js';
import { testDatabases } from '../../db/test-databases.js';
import { announcedUrl, type ServerProcess, startServerProcess } from '../../test-process.js';
import { ledgerInvariants } from './test-ledger.js';

/**
 * Kill the server (SIGKILL, no goodbye) in the middle of a burst of tips, start it again on the same
 * data, and check that the ledger still balances and that every tip the server acknowledged is there.
 */
describe.each(testDatabases())('ledger after a crash on $name', (testDb) => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  /** Fresh storage for the server process: a PGlite directory or a PostgreSQL database of its own. */
  async function storage(): Promise<{ env: Record<string, string>; open: () => Promise<DatabaseHandle> }> {
    if (testDb.name === 'pglite') {
      const dir = mkdtempSync(join(tmpdir(), 'ff-crash-'));
      cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
      return { env: { DATA_DIR: dir }, open: () => openDatabase({ dataDir: join(dir, 'pglite') }) };
    }
    const base = process.env.DATABASE_URL!;
    const name = `ff_crash_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
    const admin = await openDatabase({ url: base, poolSize: 1 });
    await sql`create database ${sql.id(name)}`.execute(admin.db);
    await admin.close();
    cleanups.push(async () => {
      const again = await openDatabase({ url: base, poolSize: 1 });
      await sql`drop database if exists ${sql.id(name)} with (force)`.execute(again.db);
      await again.close();
    });
    const url = new URL(base);
    url.pathname = `/${name}`;
    return { env: { DATABASE_URL: url.toString() }, open: () => openDatabase({ url: url.toString(), poolSize: 2 }) };
  }

  const start = (env: Record<string, string>) => {
    const server = startServerProcess({
      ...env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      PASSWORD_HASH_COST: '10',
      DEMO_ACCOUNTS: 'false',
      PAYMENTS_DEV_PROVIDER: 'true',
      TIPS_PER_MINUTE: '10000',
      RATE_LIMIT_PER_MINUTE: '1000000',
    });
    cleanups.push(() => void server.child.kill('SIGKILL'));
    return server;
  };

  async function api(url: string, path: string, token: string | null, body?: unknown, key?: string) {
    const res = await fetch(`${url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(key ? { 'idempotency-key': key } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as any };
  }

  it('balances and keeps every acknowledged tip', async () => {
    const { env, open } = await storage();
    let server: ServerProcess = start(env);
    let url = await announcedUrl(server, 90_000);

    const register = async (name: string, role = 'viewer') =>
      (
        await api(url, '/api/auth/register', null, {
          email: `${name}-${randomUUID()}@example.com`,
          password: 'correct horse battery',
          displayName: name,
          role,
        })
      ).body.accessToken as string;
    const streamer = await register('streamer', 'streamer');
    const room = (await api(url, '/api/rooms', streamer, { kind: 'live', title: 'Crash' })).body.id as string;
    const viewers = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map((i) => register(`viewer${i}`)));
    for (const token of viewers) {
      const res = await api(
        url,
        '/api/wallet/purchases',
        token,
        { packId: 'patron', expectedPriceCents: 4999 },
        `buy-${randomUUID()}`,
      );
      expect(res.status).toBe(201);
    }

    // A burst: every viewer tips as fast as it can until the server dies under it.
    const acknowledged: string[] = [];
    let stop = false;
    const burst = viewers.map(async (token) => {
      while (!stop) {
        try {
          const res = await api(
            url,
            `/api/rooms/${room}/tips`,
            token,
            { amount: 1 + Math.floor(Math.random() * 5) },
            `tip-${randomUUID()}`,
          );
          if (res.status === 201) acknowledged.push(res.body.tip.id);
        } catch {
          return; // connection lost: the server is gone
        }
      }
    });
    while (acknowledged.length < 150) await new Promise((r) => setTimeout(r, 10));
    server.child.kill('SIGKILL');
    stop = true;
    await Promise.all(burst);
    expect(await server.exited).toBe(128);

    // Back up on the same data: it starts, serves and still takes tips.
    server = start(env);
    url = await announcedUrl(server, 90_000);
    const after = await api(url, `/api/rooms/${room}/tips`, viewers[0]!, { amount: 1 }, `tip-${randomUUID()}`);
    expect(after.status).toBe(201);
    acknowledged.push(after.body.tip.id);
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);

    const database = await open();
    try {
      const inv = await ledgerInvariants(database);
      expect(inv).toMatchObject({ total: 0, mismatched: [], negative: [], unbalancedTransactions: 0 });
      const stored = new Set(
        (await database.db.selectFrom('ledger_transactions').select('id').where('kind', '=', 'tip').execute()).map(
          (r) => r.id,
        ),
      );
      const missing = acknowledged.filter((id) => !stored.has(id));
      expect(missing).toEqual([]);
      expect(stored.size).toBeGreaterThanOrEqual(acknowledged.length);
    } finally {
      await database.close();
    }
  }, 240_000);
});
