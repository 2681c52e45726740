import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLoopbackHost } from './config.js';
import { announcedUrl, startServerProcess as startBin, waitFor } from './test-process.js';

/**
 * A network namespace of the test's own (only its loopback interface, up), so the server can
 * listen on 0.0.0.0 as an operator's would while every byte stays inside it. Needs root (CI is).
 */
function networkNamespace(): { name: string; exec: string[]; remove(): void } | undefined {
  const name = `ff-bin-${process.pid}-${randomBytes(3).toString('hex')}`;
  if (spawnSync('ip', ['netns', 'add', name], { stdio: 'ignore' }).status !== 0) return undefined;
  execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  return {
    name,
    exec: ['ip', 'netns', 'exec', name],
    remove: () => void spawnSync('ip', ['netns', 'delete', name], { stdio: 'ignore' }),
  };
}

describe('the server process', () => {
  const dirs: string[] = [];
  let collector: Server | undefined;
  afterAll(() => {
    collector?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses a bad configuration naming the variable', async () => {
    const run = startBin({ PORT: 'eighty', TURN_TTL_SECONDS: '5' });
    expect(await run.exited).toBe(78);
    expect(run.output()).toContain('PORT: must be an integer (got "eighty")');
    expect(run.output()).toContain('TURN_TTL_SECONDS');
  });

  it('starts on the embedded database with demo accounts, exports traces, and stops on SIGTERM', async () => {
    const spans: string[] = [];
    collector = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        if (req.url === '/v1/traces') spans.push(body);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => collector!.listen(0, '127.0.0.1', r));
    const otel = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'ff-bin-'));
    dirs.push(dataDir);

    const run = startBin({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      PASSWORD_HASH_COST: '10',
      OTEL_EXPORTER_OTLP_ENDPOINT: otel,
      OTEL_SERVICE_NAME: 'ff-test',
    });
    try {
      // A first start runs initdb for the embedded database: give a loaded machine time.
      const url = await announcedUrl(run, 90_000);
      expect(run.output()).toMatch(/admin\s+admin@fusionflow\.test\s+\S{8,}/);
      expect(run.output()).toMatch(/viewer\s+viewer@fusionflow\.test/);
      const password = /admin@fusionflow\.test\s+(\S+)/.exec(run.output())![1]!;
      const health = await fetch(`${url}/healthz`);
      expect(await health.json()).toEqual({ status: 'ok' });
      // On loopback with the embedded database, the free dev payments are on by default (and said so).
      expect(run.output()).toContain('The dev payment provider is on');
      expect((await (await fetch(`${url}/api/wallet/packs`)).json()).providers).toEqual(['dev']);
      const login = await fetch(`${url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'admin@fusionflow.test', password }),
      });
      expect(login.status).toBe(200);
      expect((await login.json()).user.role).toBe('admin');
      await fetch(`${url}/api/rooms?status=live`);

      const exported = await waitFor('spans', () => (spans.some((s) => s.includes('/api/rooms')) ? spans : undefined));
      expect(exported.join('')).toContain('ff-test');

      // LOG_LEVEL=info: the start-up lines, then the banner last; no line per request.
      const out = run.output();
      const banner = out.indexOf('FusionFlow is running at');
      expect(out.slice(0, banner)).toContain('"msg":"embedded SFU started"');
      expect(out.slice(0, banner)).toContain('"msg":"FusionFlow is running"');
      const after = out.slice(banner);
      expect(after).toContain(`Next: open ${url} in a browser, sign in as streamer@fusionflow.test`);
      expect(after).toMatch(/Translation\s+off: chat is shown as written/);
      expect(after).toMatch(/TURN\s+off: .*\n\s+Run coturn \(deploy\/coturn\/\) and set TURN_URLS and TURN_SECRET/);
      expect(after).toMatch(/Redis\s+off: .*\n\s+To run several processes, set REDIS_URL/);
      expect(after).toMatch(/S3 storage\s+off: recordings stay on the SFU’s disk/);
      expect(out).not.toContain('"url":"/api/rooms?status=live"');
      expect(out).not.toContain('incoming request');
      expect(out).not.toContain('request completed');
      // Nothing the control plane logs at info after the banner (the requests above, the sign-in).
      // (The SFU child's start-up lines reach stdout through a pipe; its readiness may overtake them.)
      const infoAfter = after
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .filter((l) => l.name === 'server' && l.level < 40);
      expect(infoAfter).toEqual([]);
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('shutting down');

    // LOG_REQUESTS=true: structured JSON lines per request with request ids. And a translation
    // engine that does not answer is named in the banner, with what to check.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const verbose = startBin({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      LOG_REQUESTS: 'true',
      PASSWORD_HASH_COST: '10',
      SFU_EMBEDDED: 'false',
      TRANSLATION_ENGINE: 'apertium',
      TRANSLATION_URL: `http://127.0.0.1:${deadPort}`,
      TRANSLATION_TIMEOUT_MS: '2000',
    });
    try {
      const url = await announcedUrl(verbose, 90_000);
      expect(verbose.output()).toMatch(
        /Translation\s+NOT WORKING: apertium does not translate: .*\n\s+Check that the engine runs at TRANSLATION_URL/,
      );
      await fetch(`${url}/api/rooms?status=live`);
      const requestLog = await waitFor('the request log line', () =>
        verbose
          .output()
          .split('\n')
          .find((l) => l.includes('"url":"/api/rooms?status=live"')),
      );
      expect(JSON.parse(requestLog)).toMatchObject({ reqId: expect.any(String), level: 30 });
    } finally {
      verbose.child.kill('SIGTERM');
    }
    expect(await verbose.exited).toBe(0);
  }, 240_000);

  it('knows which addresses are loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.5', 'live.example.com', '127.0.0.1.example.com']) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });

  it('turns free payments and demo accounts off by default on a non-loopback HOST, and warns loudly when asked for them', async () => {
    const ns = networkNamespace();
    if (!ns) {
      if (process.env.CI) throw new Error('could not create a network namespace (ip netns add needs root)');
      console.warn('skipped: listening on 0.0.0.0 is tested in a network namespace, which needs root');
      return;
    }
    const dataDir = mkdtempSync(join(tmpdir(), 'ff-bin-public-'));
    dirs.push(dataDir);
    const inside = (url: string) =>
      JSON.parse(execFileSync(ns.exec[0]!, [...ns.exec.slice(1), 'curl', '-sf', url], { encoding: 'utf8' }));
    const env = { PORT: '0', HOST: '0.0.0.0', DATA_DIR: dataDir, PASSWORD_HASH_COST: '10', SFU_EMBEDDED: 'false' };
    try {
      const byDefault = startBin(env, ns.exec);
      try {
        const url = await announcedUrl(byDefault, 90_000);
        expect(byDefault.output()).toMatch(
          /Demo accounts and the free dev payment provider are off: HOST=0\.0\.0\.0 is reachable from other machines/,
        );
        expect(byDefault.output()).not.toMatch(/admin@fusionflow\.test/);
        expect(inside(`${url}/api/wallet/packs`).providers).toEqual([]);
      } finally {
        byDefault.child.kill('SIGTERM');
      }
      expect(await byDefault.exited).toBe(0);

      const asked = startBin({ ...env, DEMO_ACCOUNTS: 'true', PAYMENTS_DEV_PROVIDER: 'true' }, ns.exec);
      try {
        const url = await announcedUrl(asked, 90_000);
        const out = asked.output();
        expect(out).toContain('!!! WARNING: HOST=0.0.0.0 is reachable from other machines, and');
        expect(out).toMatch(/!!! {3}- demo accounts are on \(DEMO_ACCOUNTS=true\)/);
        expect(out).toMatch(/!!! {3}- the free dev payment provider is on \(PAYMENTS_DEV_PROVIDER=true\)/);
        expect(out).toMatch(/admin\s+admin@fusionflow\.test/);
        // The log is written asynchronously: the warning may follow the banner.
        await waitFor('the warning in the log', () =>
          /"level":40.*free dev payment provider is on/.test(asked.output()) ? true : undefined,
        );
        expect(inside(`${url}/api/wallet/packs`).providers).toEqual(['dev']);
      } finally {
        asked.child.kill('SIGTERM');
      }
      expect(await asked.exited).toBe(0);
    } finally {
      ns.remove();
    }
  }, 240_000);
});
