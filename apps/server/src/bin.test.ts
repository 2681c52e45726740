import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { announcedUrl, startServerProcess as startBin, waitFor } from './test-process.js';

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

      // Structured JSON logs with request ids.
      const requestLog = run
        .output()
        .split('\n')
        .find((l) => l.includes('"url":"/api/rooms?status=live"'));
      expect(requestLog && JSON.parse(requestLog)).toMatchObject({ reqId: expect.any(String), level: 30 });
    } finally {
      run.child.kill('SIGTERM');
    }
    expect(await run.exited).toBe(0);
    expect(run.output()).toContain('shutting down');
  }, 150_000);
});
