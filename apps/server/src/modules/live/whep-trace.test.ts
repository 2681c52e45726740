import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newTraceparent, WhepPlayer } from '@fusionflow/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { announcedUrl, type ServerProcess, startServerProcess, waitFor } from '../../test-process.js';
import { LoopbackPeerConnection, publishSynthetic } from './test-media.js';

/** One span as the OTLP/HTTP JSON export carries it, with the service that sent it. */
interface ExportedSpan {
  service: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
}

/** An OTLP/HTTP collector: every span it was sent. */
async function startCollector(): Promise<{ url: string; spans: ExportedSpan[]; server: Server }> {
  const spans: ExportedSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const doc = JSON.parse(body);
        for (const rs of doc.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a: any) => a.key === 'service.name')?.value?.stringValue;
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              const attributes: Record<string, unknown> = {};
              for (const a of s.attributes ?? []) attributes[a.key] = Object.values(a.value ?? {})[0];
              spans.push({
                service,
                name: s.name,
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId || undefined,
                attributes,
              });
            }
          }
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, server };
}

const json = async (res: Response) => {
  const body = await res.json();
  if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(body)}`);
  return body;
};

/**
 * A WHEP play is one trace: the browser's trace context (the SDK's `traceparent`) reaches the grant
 * request and the WHEP request; the control plane's forwarder carries it to the SFU, whose session
 * span hangs under its request span. The real server process with its embedded SFU, both exporting
 * to an OTLP/HTTP collector this test runs.
 */
describe('tracing a WHEP play across the control plane and the SFU', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let server: ServerProcess;
  let url: string;
  let dataDir: string;
  const closers: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    collector = await startCollector();
    dataDir = mkdtempSync(join(tmpdir(), 'ff-trace-'));
    server = startServerProcess({
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      PASSWORD_HASH_COST: '10',
      DEMO_ACCOUNTS: 'false',
      ICE_ADDRESSES: '127.0.0.1',
      ICE_ONLY_ADDRESSES: 'true',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_SERVICE_NAME: 'ff-trace-server',
    });
    url = await announcedUrl(server, 90_000);
  }, 120_000);
  afterAll(async () => {
    for (const close of closers.reverse()) await close();
    if (server && server.exitCode() === undefined) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    collector?.server.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('links grant, forwarder, SFU request and SFU session by parent', async () => {
    const post = (path: string, body: unknown, token?: string, headers: Record<string, string> = {}) =>
      fetch(`${url}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        body: JSON.stringify(body),
      }).then(json);

    // A streamer publishes synthetic VP8 and Opus through the forwarder.
    const streamer = await post('/api/auth/register', {
      email: `trace-${process.pid}@example.com`,
      password: 'correct horse battery',
      displayName: 'Tracer',
      role: 'streamer',
    });
    const room = await post('/api/rooms', { kind: 'live', title: 'Traced' }, streamer.accessToken);
    const publishGrant = await post(`/api/rooms/${room.id}/grants`, { role: 'publish' }, streamer.accessToken);
    const published = await publishSynthetic({ url: publishGrant.whipUrl, token: publishGrant.token });
    closers.push(() => published.stop());

    // A guest viewer plays, with one trace context for the grant and the WHEP session (as the web app does).
    const guest = await post('/api/auth/guest', {});
    const traceparent = newTraceparent();
    const [, traceId, clientSpanId] = traceparent.split('-');
    const grant = await post(`/api/rooms/${room.id}/grants`, { role: 'subscribe' }, guest.accessToken, { traceparent });
    const player = new WhepPlayer({
      url: grant.whepUrl,
      token: grant.token,
      RTCPeerConnection: LoopbackPeerConnection as never,
      gatherTimeoutMs: 1000,
      traceparent,
    });
    closers.push(() => player.stop());
    // The room is live once the SFU told the control plane its publisher started.
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`${url}/api/rooms/${room.id}`).then(json)).status === 'live') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await player.start();
    const sessionId = player.location!.split('/').pop()!;

    const inTrace = () => collector.spans.filter((s) => s.traceId === traceId);
    // Each process exports its spans in its own batches: wait until the chains from the SFU session and from the
    // grant up to their request spans have all arrived (a broken parent link times out here).
    const { session, grantSpan } = await waitFor(
      'the SFU session and grant spans with their parents',
      () => {
        const spans = inTrace();
        const ids = new Map(spans.map((s) => [s.spanId, s]));
        const up = (s: ExportedSpan | undefined) => (s?.parentSpanId ? ids.get(s.parentSpanId) : undefined);
        const session = spans.find((s) => s.service === 'fusionflow-sfu' && s.name === 'whep.session');
        const grantSpan = spans.find((s) => s.name === 'grant.issue');
        return session && grantSpan && up(up(up(session))) && up(grantSpan) ? { session, grantSpan } : undefined;
      },
      20_000,
    );
    const byId = new Map(inTrace().map((s) => [s.spanId, s]));
    const parentOf = (s: ExportedSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);

    // The grant: the control plane's request span, child of the browser's, and the grant span under it.
    expect(grantSpan, 'grant.issue span').toBeDefined();
    expect(grantSpan).toMatchObject({ service: 'ff-trace-server', attributes: { 'ff.role': 'subscribe' } });
    const grantRequest = parentOf(grantSpan!);
    expect(grantRequest?.service).toBe('ff-trace-server');
    expect(grantRequest?.parentSpanId).toBe(clientSpanId);

    // The SFU's session span, under the SFU's request span, under the forwarder's client span,
    // under the control plane's WHEP request span, whose parent is the browser's span.
    expect(session.attributes).toMatchObject({ 'ff.room': room.id, 'ff.session': sessionId, 'ff.auth': 'grant' });
    const sfuRequest = parentOf(session);
    expect(sfuRequest?.service).toBe('fusionflow-sfu');
    const forwarder = parentOf(sfuRequest!);
    expect(forwarder?.service).toBe('ff-trace-server');
    const whepRequest = parentOf(forwarder!);
    expect(whepRequest?.service).toBe('ff-trace-server');
    expect(whepRequest?.parentSpanId).toBe(clientSpanId);
    expect(JSON.stringify(whepRequest?.attributes)).toContain(`/api/whep/play/${room.id}`);
    // Two requests of the browser, one trace: the grant's and the play's spans share the browser's parent.
    expect(new Set(inTrace().map((s) => s.service))).toEqual(new Set(['ff-trace-server', 'fusionflow-sfu']));
  }, 90_000);
});
