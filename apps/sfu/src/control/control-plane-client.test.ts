import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyInternalRequest } from '@fusionflow/kit';
import { RecordingReport, type RoomId } from '@fusionflow/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlPlaneClient } from './control-plane-client.js';

const silentLog = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} } as never;
const SECRET = 'test-secret-0123456789abcdef';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** A fake control plane: records each request with its signature check; 204. */
async function fakeControlPlane() {
  const received: { path: string; check: string; body: unknown }[] = [];
  let notify: () => void = () => {};
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const path = new URL(req.url!, 'http://x').pathname;
      const check = verifyInternalRequest(SECRET, { method: req.method!, path, body, headers: req.headers });
      received.push({ path, check, body: JSON.parse(body) });
      res.statusCode = check === 'ok' ? 204 : 401;
      res.end();
      notify();
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
  const until = (n: number) =>
    new Promise<void>((resolve) => {
      const check = () => (received.length >= n ? resolve() : undefined);
      notify = check;
      check();
    });
  return { received, baseUrl, until };
}

describe('ControlPlaneClient recording reports', () => {
  it('posts signed reports in order to /api/internal/sfu/recordings', async () => {
    const cp = await fakeControlPlane();
    const client = new ControlPlaneClient({ baseUrl: cp.baseUrl, secret: SECRET, logger: silentLog });
    const base = {
      id: 'rec_test_0001',
      room: 'room1' as RoomId,
      format: 'webm' as const,
      startedAt: new Date().toISOString(),
    };
    client.reportRecording({ ...base, status: 'recording', endedAt: null, durationMs: 0, files: [] });
    const file = { name: 'rec_test_0001.webm', key: 'rec_test_0001.webm', bytes: 10, contentType: 'video/webm' };
    const ended = new Date().toISOString();
    client.reportRecording({
      ...base,
      status: 'ready',
      endedAt: ended,
      durationMs: 10_000,
      files: [{ ...file, storage: 'local' }],
    });
    client.reportRecording({
      ...base,
      status: 'ready',
      endedAt: ended,
      durationMs: 10_000,
      files: [{ ...file, storage: 's3', key: 'recordings/rec_test_0001/rec_test_0001.webm' }],
    });
    await cp.until(3);
    await client.close();
    expect(cp.received.map((r) => r.path)).toEqual(Array(3).fill('/api/internal/sfu/recordings'));
    expect(cp.received.map((r) => r.check)).toEqual(['ok', 'ok', 'ok']);
    const reports = cp.received.map((r) => RecordingReport.parse(r.body));
    expect(reports.map((r) => `${r.status}:${r.files[0]?.storage ?? '-'}`)).toEqual([
      'recording:-',
      'ready:local',
      'ready:s3',
    ]);
  });
});
