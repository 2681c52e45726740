import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyInternalRequest } from '@fusionflow/kit';
import { MEDIA_NODE_REPORT_PATH, type SfuNodeReport } from '@fusionflow/protocol';
import { describe, expect, it } from 'vitest';
import { testSfuConfig } from '../config.js';
import { waitFor } from '../test-peers.js';
import { spawnSfuProcess } from '../test-sfu-process.js';
import { workerEnv } from './worker-supervisor.js';

const SECRET = 'workers-test-secret-0123456789abcdef';

describe('worker settings', () => {
  it('gives each worker its node id, port, share of the ICE ports and advertised URL', () => {
    const config = testSfuConfig({
      nodeId: 'box',
      port: 8090,
      icePortRange: [40000, 40999],
      advertisedUrl: 'https://media.example:8443',
    });
    expect(workerEnv(config, 0, 2)).toEqual({
      SFU_WORKERS: '1',
      SFU_NODE_ID: 'box-w0',
      SFU_PORT: '8090',
      ICE_PORT_RANGE: '40000-40499',
      SFU_ADVERTISED_URL: 'https://media.example:8443',
    });
    expect(workerEnv(config, 1, 2)).toMatchObject({
      SFU_NODE_ID: 'box-w1',
      SFU_PORT: '8091',
      ICE_PORT_RANGE: '40500-40999',
      SFU_ADVERTISED_URL: 'https://media.example:8444',
    });
    // Port 0 stays 0 (each picks a free one); no range, no URL: none is set.
    expect(workerEnv(testSfuConfig({ nodeId: 'box', port: 0 }), 3, 4)).toEqual({
      SFU_WORKERS: '1',
      SFU_NODE_ID: 'box-w3',
      SFU_PORT: '0',
    });
    expect(() => workerEnv(testSfuConfig({ icePortRange: [40000, 40002] }), 0, 4)).toThrow(/fewer ports/);
  });
});

describe('the SFU with workers (SFU_WORKERS=2)', () => {
  it('runs two worker nodes that report themselves, restarts one that dies, and stops them all on SIGTERM', async () => {
    const reports: SfuNodeReport[] = [];
    const control = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        const path = req.url!.split('?')[0]!;
        const signed = verifyInternalRequest(SECRET, { method: req.method!, path, body, headers: req.headers });
        if (signed === 'ok' && path === MEDIA_NODE_REPORT_PATH) reports.push(JSON.parse(body));
        res.writeHead(signed === 'ok' ? 204 : 401).end();
      });
    });
    await new Promise<void>((r) => control.listen(0, '127.0.0.1', r));
    const controlUrl = `http://127.0.0.1:${(control.address() as AddressInfo).port}`;
    const { child, output, exited } = spawnSfuProcess({
      SFU_WORKERS: '2',
      SFU_PORT: '0',
      SFU_NODE_ID: 'box',
      CONTROL_URL: controlUrl,
      JWKS: JSON.stringify({ keys: [] }),
      INTERNAL_SECRET: SECRET,
      SFU_REPORT_INTERVAL_SECONDS: '1',
      LOG_LEVEL: 'info',
      ICE_ADDRESSES: '127.0.0.1',
    });
    const started = () =>
      output()
        .split('\n')
        .filter((l) => l.includes('"worker started"'))
        .map((l) => JSON.parse(l) as { worker: number; pid: number });
    const latest = (nodeId: string) => reports.filter((r) => r.nodeId === nodeId).at(-1);
    try {
      await waitFor(() => !!latest('box-w0') && !!latest('box-w1'), 30_000, `both workers reporting:\n${output()}`);
      const urls = [latest('box-w0')!.url, latest('box-w1')!.url];
      expect(new Set(urls).size).toBe(2);
      for (const url of urls) expect((await fetch(`${url}/healthz`)).status).toBe(200);

      // A worker dies: it is started again, as the same node, and reports from its new address.
      const first = started().find((w) => w.worker === 0)!;
      process.kill(first.pid, 'SIGKILL');
      await waitFor(() => started().filter((w) => w.worker === 0).length === 2, 20_000, 'worker 0 restarted');
      const again = started().filter((w) => w.worker === 0)[1]!;
      expect(again.pid).not.toBe(first.pid);
      const count = reports.length;
      await waitFor(
        () => reports.slice(count).some((r) => r.nodeId === 'box-w0' && r.url !== urls[0]),
        30_000,
        'the restarted worker reporting',
      );
      expect((await fetch(`${latest('box-w0')!.url}/healthz`)).status).toBe(200);

      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      const pids = started().map((w) => w.pid);
      await waitFor(() => pids.every((pid) => !alive(pid)), 15_000, 'every worker gone');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      for (const w of started()) {
        try {
          process.kill(w.pid, 'SIGKILL');
        } catch {
          // Gone already.
        }
      }
      await new Promise<void>((r) => control.close(() => r()));
    }
  }, 120_000);

  it('drains every worker on SIGUSR2 and exits once they all have', async () => {
    const { child, output, exited } = spawnSfuProcess({
      SFU_WORKERS: '2',
      SFU_PORT: '0',
      LOG_LEVEL: 'info',
      ICE_ADDRESSES: '127.0.0.1',
    });
    try {
      await waitFor(() => output().split('SFU is running').length === 3, 30_000, 'both workers running');
      child.kill('SIGUSR2');
      expect(await exited).toBe(0);
      expect(output().match(/"end":"empty"/g)).toHaveLength(2);
      expect(output()).not.toContain('worker died');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
