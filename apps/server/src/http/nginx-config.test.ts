import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../db/test-databases.js';
import { freeTcpPort } from '../modules/chat/test-apertium.js';
import { startTestPlatform, type TestPlatform } from '../test-support.js';

const SHIPPED = new URL('../../../../deploy/nginx/fusionflow.conf', import.meta.url);

/** Debian's nginx, if installed (root has /usr/sbin on PATH; others may not). */
function nginxBinary(): string | undefined {
  const onPath = spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim();
  const found = onPath || ['/usr/sbin/nginx'].find((candidate) => existsSync(candidate));
  if (found) return found;
  if (process.env.FF_REQUIRE_NGINX === '1')
    throw new Error('FF_REQUIRE_NGINX=1 but nginx is not installed (apt-get install nginx)');
  console.warn('skipped: nginx is not installed (apt-get install nginx)');
  return undefined;
}

/**
 * The shipped config, made runnable here: its HTTPS server without TLS on a loopback port, its
 * upstream pointed at the test platform, in a throw-away prefix. Every location block stays as shipped.
 */
function runnable(shipped: string, o: { port: number; upstreamPort: number; dir: string }): string {
  const body = shipped
    // The port-80 server only redirects to HTTPS.
    .replace(/server \{\n\s+listen 80;[\s\S]*?\n\}\n/, '')
    .replace('listen 443 ssl;', `listen 127.0.0.1:${o.port};`)
    .replace(/^\s*(listen \[::\]:443 ssl;|http2 on;|ssl_\w+ .*;)\s*$/gm, '')
    .replace('server 127.0.0.1:8080;', `server 127.0.0.1:${o.upstreamPort};`);
  if (body.includes('443') || body.includes(':8080')) throw new Error('the shipped nginx config changed shape');
  const temp = (name: string) => `${name}_temp_path ${join(o.dir, name)};`;
  return [
    'daemon off;',
    // One process as the test's user: no workers that would need their own access to the prefix.
    'master_process off;',
    `pid ${join(o.dir, 'nginx.pid')};`,
    `error_log ${join(o.dir, 'error.log')} warn;`,
    'events { worker_connections 64; }',
    'http {',
    'access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp),
    body,
    '}',
  ].join('\n');
}

const nginx = nginxBinary();

describe.runIf(nginx)(`the shipped nginx config${nginx ? '' : ' (skipped: apt-get install nginx)'}`, () => {
  const db = testDatabases()[0]!;
  let t: TestPlatform;
  let child: ChildProcess | undefined;
  let dir: string;
  let base: string;

  beforeAll(async () => {
    t = await startTestPlatform(db, { port: 0 });
    const upstream = new URL(await t.platform.listen());
    dir = mkdtempSync(join(tmpdir(), 'ff-nginx-'));
    for (const name of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, name));
    const port = await freeTcpPort();
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, runnable(readFileSync(SHIPPED, 'utf8'), { port, upstreamPort: Number(upstream.port), dir }));
    child = spawn(nginx!, ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.once('error', (err) => {
      stderr += err.message;
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${stderr}`);
      try {
        await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
        break;
      } catch {
        if (i > 100) throw new Error(`nginx did not answer: ${stderr}`);
        await sleep(100);
      }
    }
  }, 60_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const get = (path: string, token?: string) =>
    fetch(`${base}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('lets admins reach /api/admin/ (payouts, the ledger) through nginx', async () => {
    const admin = await t.signUpAs('Ada', 'admin');
    const payouts = await get('/api/admin/payouts', admin.token);
    expect(payouts.status).toBe(200);
    expect(await payouts.json()).toEqual({ payouts: [] });
    const ledger = await get('/api/admin/ledger', admin.token);
    expect(ledger.status).toBe(200);
    expect(await ledger.json()).toMatchObject({ transactions: [] });
    // Still the server's own guard that decides: no token, no ledger.
    const anonymous = await get('/api/admin/ledger');
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('never lets the control plane’s internal API or its metrics out', async () => {
    // The server itself would answer (401: unsigned); nginx answers 404 before it is asked.
    expect((await t.call('POST', '/api/internal/sfu/events', { body: {} })).status).toBe(401);
    for (const path of ['/api/internal/sfu/events', '/api/internal/sfu/admit']) {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        body: '{}',
        headers: { 'content-type': 'application/json' },
      });
      expect(res.status, path).toBe(404);
      expect(res.headers.get('server'), path).toMatch(/^nginx/);
    }
    expect((await get('/metrics')).status).toBe(404);
    // Everything else goes through.
    expect((await get('/healthz')).status).toBe(200);
  });
});
