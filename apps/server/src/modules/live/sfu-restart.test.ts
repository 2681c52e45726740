import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@fusionflow/kit';
import { createMetricsRegistry } from '@fusionflow/kit';
import fastify from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerHealthRoutes } from '../../http/health-routes.js';
import { EmbeddedSfu } from './sfu-process.js';

/**
 * A stand-in SFU: each start counts itself in the state file. Start 1 comes up and crashes,
 * start 2 dies during start-up, start 3 comes up and stays.
 */
const FAKE_SFU = `
const fs = require('node:fs');
const file = process.argv[2];
const n = Number(fs.readFileSync(file, 'utf8') || '0') + 1;
fs.writeFileSync(file, String(n));
if (n === 2) process.exit(3);
process.send({ type: 'ready', url: 'http://127.0.0.1:' + (40000 + n) });
if (n === 1) setTimeout(() => process.exit(1), 20);
else setInterval(() => {}, 1000);
`;

function recordingLogger() {
  const lines: string[] = [];
  const logger = {
    info: (_o: unknown, msg?: string) => lines.push(`info ${msg}`),
    warn: (_o: unknown, msg?: string) => lines.push(`warn ${msg}`),
    error: (_o: unknown, msg?: string) => lines.push(`error ${msg}`),
    debug: () => undefined,
    child: () => logger,
  };
  return { logger: logger as unknown as Logger, lines };
}

describe('the embedded SFU restarts', () => {
  const dirs: string[] = [];
  const sfus: EmbeddedSfu[] = [];
  afterEach(async () => {
    for (const s of sfus.splice(0)) await s.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  function fake(restartFirstMs = 10) {
    const dir = mkdtempSync(join(tmpdir(), 'ff-sfu-'));
    dirs.push(dir);
    const script = join(dir, 'fake-sfu.cjs');
    const state = join(dir, 'starts');
    writeFileSync(script, FAKE_SFU);
    writeFileSync(state, '');
    const { logger, lines } = recordingLogger();
    const sfu = new EmbeddedSfu({
      env: { PATH: process.env.PATH },
      controlUrl: 'http://127.0.0.1:9',
      secret: 's'.repeat(32),
      jwks: '{"keys":[]}',
      configFile: undefined,
      logger,
      restartFirstMs,
      restartMaxMs: 1000,
      entry: () => ({ command: process.execPath, args: [script, state] }),
    });
    sfus.push(sfu);
    return { sfu, lines, starts: () => Number(readFileSync(state, 'utf8') || '0') };
  }

  it('with backoff, also when a restart fails during start-up, and keeps no dead child', async () => {
    const { sfu, lines, starts } = fake();
    expect(await sfu.start()).toBe('http://127.0.0.1:40001');
    // Crash → restart fails during start-up → restart again → runs.
    await vi.waitFor(() => expect(sfu.status).toMatchObject({ state: 'running', restarts: 2 }), { timeout: 15_000 });
    expect(starts()).toBe(3);
    expect(sfu.url).toBe('http://127.0.0.1:40003');
    expect(sfu.pid).toBeGreaterThan(0);
    expect(lines).toContain('error could not restart the SFU');
    expect(lines.filter((l) => l === 'warn embedded SFU restart scheduled')).toHaveLength(2);
  });

  it('while it waits to restart it has no child, and close() ends the restarts', async () => {
    const { sfu, starts } = fake(60_000);
    await sfu.start();
    await vi.waitFor(() => expect(sfu.status.state).toBe('restarting'), { timeout: 15_000 });
    expect(sfu.pid).toBeUndefined();
    expect(sfu.url).toBeUndefined();
    expect(sfu.status).toMatchObject({ restarts: 1, lastError: 'exited (1)' });
    expect(sfu.status.nextStartAt).toBeDefined();
    await sfu.close();
    expect(sfu.status).toMatchObject({ state: 'closed' });
    expect(starts()).toBe(1);
    await expect(sfu.start()).rejects.toThrow(/closed/);
  });

  it('/readyz reports it, and is not ready while it restarts', async () => {
    let status: { state: string; restarts: number } | undefined = { state: 'running', restarts: 0 };
    const app = fastify();
    registerHealthRoutes(app, {
      metrics: createMetricsRegistry(),
      ready: async () => undefined,
      targets: () => [],
      sfu: () => status,
    });
    try {
      let res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ready', sfu: { state: 'running', restarts: 0 } });
      status = { state: 'restarting', restarts: 3 };
      res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toEqual({ status: 'unavailable', sfu: { state: 'restarting', restarts: 3 } });
      status = undefined;
      res = await app.inject({ method: 'GET', url: '/readyz' });
      expect(res.json()).toEqual({ status: 'ready' });
    } finally {
      await app.close();
    }
  });
});
