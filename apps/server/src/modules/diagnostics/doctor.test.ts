import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Coturn, startCoturn } from '../../../../../test/support/coturn.js';
import { tools } from '../../../../../test/support/tools.js';
import { migrateToLatest, openDatabase } from '../../db/database.js';
import { scratchPostgresDatabase, testDatabases } from '../../db/test-databases.js';
import { runServerTool } from '../../test-process.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';

const coturn = tools.coturn();

/** The embedded SFU's own settings: loopback candidates only, as every test here. */
const sfuEnv = { PATH: process.env.PATH, ICE_ADDRESSES: '127.0.0.1', ICE_ONLY_ADDRESSES: 'true', LOG_LEVEL: 'silent' };

const byId = (report: { checks: { id: string }[] }, id: string) => report.checks.find((c) => c.id === id) as any;

describe.skipIf(!coturn.available).each(testDatabases())('the doctor ($name)', (db) => {
  let turn: Coturn;
  let t: TestPlatform;
  let admin: { token: string };

  beforeAll(async () => {
    turn = await startCoturn();
    t = await startTestPlatform(
      db,
      { port: 0, sfuEmbedded: true, turnUrls: turn.urls, turnSecret: turn.secret, turnRealm: turn.realm },
      { env: sfuEnv },
    );
    await t.platform.listen();
    admin = await t.signUpAs('Doc Admin', 'admin');
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await turn?.stop();
  });

  it('is for admins only', async () => {
    expect((await t.call('GET', '/api/admin/diagnostics')).status).toBe(401);
    const viewer = await t.signUp('Curious');
    expect((await t.call('GET', '/api/admin/diagnostics', { token: viewer.token })).body.error.code).toBe('forbidden');
  });

  it('checks every dependency for real and says what to change', async () => {
    const res = await t.call('GET', '/api/admin/diagnostics?fresh=true', { token: admin.token });
    expect(res.status).toBe(200);
    const report = res.body;
    expect(byId(report, 'database')).toMatchObject({ status: 'ok' });
    expect(byId(report, 'redis')).toMatchObject({ status: 'skipped' });
    expect(byId(report, 'sfu')).toMatchObject({ status: 'ok', details: { rooms: 0 } });
    // The embedded SFU offers 127.0.0.1 on random ports: its own address, but a firewall needs a range.
    expect(byId(report, 'sfu-ice')).toMatchObject({ status: 'warn', details: { offered: ['127.0.0.1'] } });
    expect(byId(report, 'sfu-ice').fix).toContain('ICE_PORT_RANGE');
    for (const url of turn.urls) expect(byId(report, `turn:${url}`), url).toMatchObject({ status: 'ok' });
    expect(byId(report, 'translation')).toMatchObject({ status: 'skipped' });
    expect(byId(report, 'storage')).toMatchObject({ status: 'skipped' });
    expect(byId(report, 'clock')).toMatchObject({ status: 'ok' });
    expect(byId(report, 'ledger')).toMatchObject({ status: 'ok', details: { total: 0 } });
    expect(report.status).toBe('warn');
    for (const c of report.checks) expect(c.durationMs, c.id).toBeGreaterThanOrEqual(0);

    // The verdicts are metrics too, for the alerts.
    const metrics = (await t.call('GET', '/metrics')).body as string;
    expect(metrics).toContain(`diagnostics_check_failed{check="turn:${turn.urls[0]}"} 0`);
    expect(metrics).toMatch(/ledger_audit_violations\{check="drift"\} 0/);
  }, 60_000);

  it('shares one run between concurrent requests', async () => {
    // Both ask for a fresh run: whichever reaches the doctor second finds the first one running and
    // shares it. (A plain request that got there first would rightly get the previous test's report.)
    const [a, b] = await Promise.all([
      t.call('GET', '/api/admin/diagnostics?fresh=true', { token: admin.token }),
      t.call('GET', '/api/admin/diagnostics?fresh=true', { token: admin.token }),
    ]);
    expect(a.body.checkedAt).toBe(b.body.checkedAt);
  }, 60_000);
});

/**
 * `npm run doctor` from the command line against a running platform on its own PostgreSQL
 * database: it finds the embedded SFU through the control plane, reads the SFU secret from the
 * database, and exits 1 when TURN refuses the credentials.
 */
describe.skipIf(!coturn.available || !process.env.DATABASE_URL)('npm run doctor', () => {
  let turn: Coturn;
  let scratch: Awaited<ReturnType<typeof scratchPostgresDatabase>>;
  let t: TestPlatform;
  let url: URL;

  beforeAll(async () => {
    turn = await startCoturn();
    scratch = await scratchPostgresDatabase();
    const database = {
      name: 'postgres' as const,
      open: async () => {
        const handle = await openDatabase({ url: scratch!.url, poolSize: 5 });
        await migrateToLatest(handle);
        return handle;
      },
    };
    t = await startTestPlatform(database, { port: 0, sfuEmbedded: true }, { env: sfuEnv });
    url = new URL(await t.platform.listen());
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await scratch?.drop();
    await turn?.stop();
  });

  it('prints each check and fails on a TURN secret coturn does not know', async () => {
    const env = {
      DATABASE_URL: scratch!.url,
      HOST: url.hostname,
      PORT: url.port,
      TURN_URLS: turn.urls[0]!,
      TURN_SECRET: 'a-secret-coturn-never-heard-of',
    };
    const wrong = await runServerTool('doctor', [], env);
    expect(wrong.output).toMatch(/ok {4}Control plane: http:\/\/127\.0\.0\.1:\d+ is up and ready/);
    expect(wrong.output).toMatch(/ok {4}SFU \(embedded\): answers/);
    expect(wrong.output).toContain('WARN  ICE addresses the SFU advertises');
    expect(wrong.output).toContain('FAIL  TURN relay turn:127.0.0.1');
    expect(wrong.output).toContain("TURN_SECRET is not coturn's static-auth-secret");
    expect(wrong.code).toBe(1);

    const right = await runServerTool('doctor', [], { ...env, TURN_SECRET: turn.secret });
    expect(right.output).toContain('ok    TURN relay turn:127.0.0.1');
    expect(right.code).toBe(0);
  }, 90_000);
});
