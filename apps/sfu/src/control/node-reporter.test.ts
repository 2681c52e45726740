import { createLogger, verifyInternalRequest } from '@fusionflow/kit';
import { MAX_REPORTED_ROOMS, MEDIA_NODE_REPORT_PATH, SfuNodeReport } from '@fusionflow/protocol';
import { describe, expect, it } from 'vitest';
import { NodeReporter } from './node-reporter.js';

const logger = createLogger({ level: 'silent', name: 'test' });
const secret = 'the-internal-secret-of-the-node-reporter-test';

describe('NodeReporter', () => {
  it('sends signed reports the control plane accepts (at most MAX_REPORTED_ROOMS rooms, the busiest), then stops', async () => {
    const seen: { url: string; init: RequestInit }[] = [];
    const rooms = Array.from({ length: MAX_REPORTED_ROOMS + 5 }, (_, i) => ({
      roomId: `room-${i}` as never,
      hasPublisher: true,
      viewers: i,
    }));
    const reporter = new NodeReporter({
      controlUrl: 'http://control.test:8080/',
      secret,
      nodeId: 'node-1',
      url: 'http://10.0.0.5:8090',
      intervalMs: 60_000,
      snapshot: () => ({
        draining: false,
        capacity: { maxViewers: 100 },
        load: { viewers: 3, publishers: 1, sessions: 4 },
        rooms,
      }),
      logger,
      fetch: async (url, init) => {
        seen.push({ url, init });
        return new Response(null, { status: 204 });
      },
    });
    await reporter.reportNow();
    await reporter.close();
    await reporter.reportNow();
    expect(seen).toHaveLength(1);
    const { url, init } = seen[0]!;
    expect(url).toBe(`http://control.test:8080${MEDIA_NODE_REPORT_PATH}`);
    const body = String(init.body);
    const headers = init.headers as Record<string, string>;
    expect(verifyInternalRequest(secret, { method: 'POST', path: MEDIA_NODE_REPORT_PATH, body, headers })).toBe('ok');
    const report = SfuNodeReport.parse(JSON.parse(body));
    expect(report).toMatchObject({ nodeId: 'node-1', url: 'http://10.0.0.5:8090', load: { sessions: 4 } });
    expect(report.rooms).toHaveLength(MAX_REPORTED_ROOMS);
    expect(report.rooms[0]!.viewers).toBe(MAX_REPORTED_ROOMS + 4);
  });

  it('keeps going when the control plane is unreachable (the next report replaces a lost one)', async () => {
    let calls = 0;
    const reporter = new NodeReporter({
      controlUrl: 'http://control.test:8080',
      secret,
      nodeId: 'node-1',
      url: 'http://10.0.0.5:8090',
      intervalMs: 60_000,
      snapshot: () => ({
        draining: true,
        capacity: { maxViewers: 0 },
        load: { viewers: 0, publishers: 0, sessions: 0 },
        rooms: [],
      }),
      logger,
      fetch: async () => {
        calls++;
        if (calls === 1) throw new Error('connection refused');
        return new Response(null, { status: 204 });
      },
    });
    await reporter.reportNow();
    await reporter.reportNow();
    expect(calls).toBe(2);
    await reporter.close();
  });
});
