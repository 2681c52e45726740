import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../test-support.js';

const NGINX = '/usr/sbin/nginx';
const SHIPPED = fileURLToPath(new URL('../../../../deploy/nginx/fusionflow.conf', import.meta.url));
const hasNginx = existsSync(NGINX);
if (!hasNginx && process.env.FF_REQUIRE_NGINX === '1') {
  throw new Error('FF_REQUIRE_NGINX=1 but nginx is not installed (apt-get install nginx)');
}
if (!hasNginx) console.warn('nginx-proxy.test: nginx is not installed (Debian package nginx); skipped');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * The shipped site config, made runnable here: plain HTTP on a loopback port instead of TLS on 443
 * (no certificate; and `http2 on` needs nginx 1.25, Debian 12 has 1.22), upstream on the platform's
 * port. Every proxy_set_header line, the part under test, stays as shipped.
 */
function runnableSite(controlPort: number, listenPort: number): string {
  const shipped = readFileSync(SHIPPED, 'utf8');
  const servers = shipped.split(/\n(?=server \{)/);
  const upstream = servers[0]!.replace(/server 127\.0\.0\.1:8080;/, `server 127.0.0.1:${controlPort};`);
  const main = servers.find((s) => s.includes('listen 443'))!;
  const site = main
    .split('\n')
    .filter((line) => !/^\s*(listen|http2|ssl_)/.test(line))
    .join('\n')
    .replace(/server \{/, `server {\n    listen 127.0.0.1:${listenPort};`);
  expect(shipped).toContain('proxy_set_header X-Forwarded-For');
  return `${upstream}\n${site}`;
}

/** POST as a client at `from` (a loopback address of its own), through nginx. */
function post(port: number, from: string, path: string, body: unknown, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        localAddress: from,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * The shipped nginx config in front of the control plane with the TRUST_PROXY its header says: a
 * client's own X-Forwarded-For never reaches the control plane, and each client's real address is
 * what the per-address limits count.
 */
describe.skipIf(!hasNginx)('the shipped nginx config with TRUST_PROXY=1', () => {
  let t: TestPlatform;
  let nginx: ChildProcess | undefined;
  let port: number;
  let dir: string;
  let log = '';

  beforeAll(async () => {
    expect(readFileSync(SHIPPED, 'utf8')).toMatch(/TRUST_PROXY=1\b/);
    t = await startTestPlatform(testDatabases()[0]!, { port: 0, trustProxy: 1, loginRatePerIpPerMinute: 5 });
    const controlPort = Number(new URL(await t.platform.listen()).port);
    port = await freePort();
    dir = mkdtempSync(join(tmpdir(), 'ff-nginx-'));
    for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
    writeFileSync(join(dir, 'site.conf'), runnableSite(controlPort, port));
    writeFileSync(
      join(dir, 'nginx.conf'),
      [
        process.getuid?.() === 0 ? 'user root;' : '',
        'daemon off;',
        'worker_processes 1;',
        `pid ${dir}/nginx.pid;`,
        `error_log ${dir}/error.log warn;`,
        'events { worker_connections 64; }',
        'http {',
        '  access_log off;',
        ...['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(
          (s) => `  ${s === 'body' ? 'client_body' : s}_temp_path ${dir}/${s};`,
        ),
        `  include ${dir}/site.conf;`,
        '}',
      ].join('\n'),
    );
    nginx = spawn(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    nginx.stderr!.on('data', (d) => {
      log += d;
    });
    // Ready once it accepts connections.
    for (let i = 0; ; i++) {
      const up = await new Promise<boolean>((resolve) => {
        const s = netConnect(port, '127.0.0.1', () => {
          s.destroy();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (up) break;
      if (i > 100 || nginx.exitCode !== null) throw new Error(`nginx did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 60_000);
  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((r) => nginx!.once('exit', r));
      nginx.kill('SIGTERM');
      await exited;
    }
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('holds the login limit for a client that spoofs X-Forwarded-For, and counts each client at its real address', async () => {
    const login = (from: string, spoofed: string) =>
      post(
        port,
        from,
        '/api/auth/login',
        { email: 'nobody@example.com', password: 'correct horse battery' },
        {
          'x-forwarded-for': spoofed,
        },
      );
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await login('127.0.0.2', `198.51.100.${i}`)).status);
    expect(statuses.slice(0, 5).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    // Another client, even one claiming to be the first, is counted at its own address.
    expect((await login('127.0.0.3', '127.0.0.2')).status).toBe(401);
  });
});
