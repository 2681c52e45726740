import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../test-support.js';

const pglite = testDatabases()[0]!;

describe('HTTP hardening', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(pglite, { corsOrigins: ['https://app.example.com'], rateLimitPerMinute: 30 });
  });
  afterAll(() => t.close());

  it('sets security headers', async () => {
    const res = await t.call('GET', '/api/rooms');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('SAMEORIGIN');
    expect(res.headers['strict-transport-security']).toContain('max-age=');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-powered-by']).toBeUndefined();
    // Plain-HTTP installs on a LAN must load their scripts.
    expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
  });

  it('allows only configured origins across origins', async () => {
    const ok = await t.call('OPTIONS', '/api/rooms', {
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(ok.headers['access-control-allow-origin']).toBe('https://app.example.com');
    expect(ok.headers['access-control-allow-credentials']).toBe('true');
    const evil = await t.call('GET', '/api/rooms', { headers: { origin: 'https://evil.example.com' } });
    expect(evil.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('tags every response with a request id, keeping a sane one from the proxy', async () => {
    const generated = await t.call('GET', '/api/rooms');
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const given = await t.call('GET', '/api/rooms', { headers: { 'x-request-id': 'edge-123' } });
    expect(given.headers['x-request-id']).toBe('edge-123');
    const hostile = await t.call('GET', '/api/rooms', { headers: { 'x-request-id': 'bad id\twith spaces' } });
    expect(hostile.headers['x-request-id']).not.toBe('bad id\twith spaces');
  });

  it('refuses a client that speaks another protocol version', async () => {
    const res = await t.call('GET', '/api/rooms', { headers: { 'x-ff-protocol': '2' } });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('protocol_mismatch');
    expect((await t.call('GET', '/api/rooms', { headers: { 'x-ff-protocol': '1' } })).status).toBe(200);
  });

  it('answers unknown API paths with a JSON 404', async () => {
    const res = await t.call('GET', '/api/nothing-here');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: { code: 'not_found', message: 'no such endpoint' } });
  });

  it('serves health, readiness, metrics and the OpenAPI description', async () => {
    expect((await t.call('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await t.call('GET', '/readyz')).body).toEqual({ status: 'ready' });
    const metrics = await t.call('GET', '/metrics');
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toMatch(/http_requests_total\{method="GET",route="\/api\/rooms",status_code="200"\} \d+/);
    expect(metrics.body).toContain('http_request_duration_seconds_bucket');
    expect(metrics.body).toContain('process_cpu_user_seconds_total');
    const spec = await t.call('GET', '/docs/json');
    expect(spec.status).toBe(200);
    expect(Object.keys(spec.body.paths)).toEqual(
      expect.arrayContaining(['/api/auth/register', '/api/rooms', '/api/rooms/{id}/grants', '/api/ice-servers']),
    );
    expect(spec.body.paths['/api/auth/register'].post.requestBody).toBeDefined();
    expect((await t.call('GET', '/docs/')).status).toBe(200);
  });

  it('rate limits each client address and says when to come back', async () => {
    let last = await t.call('GET', '/api/rooms', { ip: '192.0.2.7' });
    for (let i = 0; i < 40 && last.status !== 429; i++) last = await t.call('GET', '/api/rooms', { ip: '192.0.2.7' });
    expect(last.status).toBe(429);
    expect(last.body.error.code).toBe('rate_limited');
    expect(Number(last.headers['retry-after'])).toBeGreaterThan(0);
    expect((await t.call('GET', '/api/rooms', { ip: '192.0.2.8' })).status).toBe(200);
    expect((await t.call('GET', '/healthz', { ip: '192.0.2.7' })).status).toBe(200);
  });

  it('reports a failing database as not ready and internal errors without details', async () => {
    const broken = await startTestPlatform(pglite);
    await broken.database.close();
    const ready = await broken.call('GET', '/readyz');
    expect(ready.status).toBe(503);
    const res = await broken.call('GET', '/api/rooms');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'internal_error', message: 'internal error' } });
    await broken.platform.close();
  });
});
