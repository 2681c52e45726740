import { MEDIA_REPORT_MAX_BYTES } from '@fusionflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { MEDIA_REPORTS_PER_MINUTE } from './media-report-routes.js';

/** The value of one series in Prometheus' text format (0 when it is not there). */
function series(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : 0;
}

describe.each(testDatabases())('media reports on $name', (db) => {
  let t: TestPlatform;
  let user: { token: string; id: string };
  let callRoom: string;
  let liveRoom: string;
  const metrics = async () => (await t.call('GET', '/metrics')).body as string;
  const report = (body: unknown, token = user.token, room = callRoom) =>
    t.call('POST', `/api/rooms/${room}/media-reports`, { token, body });

  beforeAll(async () => {
    t = await startTestPlatform(db);
    user = await t.signUp('Caller', { role: 'streamer' });
    callRoom = (await t.call('POST', '/api/rooms', { token: user.token, body: { kind: 'call', title: 'Call' } })).body
      .id;
    liveRoom = (await t.call('POST', '/api/rooms', { token: user.token, body: { kind: 'live', title: 'Show' } })).body
      .id;
  });
  afterAll(() => t.close());

  it('counts a call’s join time, candidate types, ICE failures and freezes', async () => {
    const before = await metrics();
    const res = await report({
      kind: 'call',
      joinSeconds: 0.8,
      candidateTypes: { host: 1, relay: 2 },
      iceFailures: { connect_timeout: 1 },
      freezes: 3,
    });
    expect(res.status).toBe(204);
    const after = await metrics();
    expect(series(after, 'call_join_seconds_count') - series(before, 'call_join_seconds_count')).toBe(1);
    expect(series(after, 'call_join_seconds_bucket{le="1"}') - series(before, 'call_join_seconds_bucket{le="1"}')).toBe(
      1,
    );
    expect(series(after, 'ice_candidate_type_total{kind="call",type="relay"}')).toBe(2);
    expect(series(after, 'ice_candidate_type_total{kind="call",type="host"}')).toBe(1);
    expect(series(after, 'ice_failures_total{kind="call",reason="connect_timeout"}')).toBe(1);
    expect(series(after, 'media_freezes_total{kind="call"}')).toBe(3);
    expect(series(after, 'media_reports_total{kind="call"}')).toBe(1);
  });

  it('puts a watch session’s join time in its own histogram', async () => {
    const before = await metrics();
    expect(
      (await report({ kind: 'watch', joinSeconds: 1.2, candidateTypes: { host: 1 } }, user.token, liveRoom)).status,
    ).toBe(204);
    const after = await metrics();
    expect(series(after, 'watch_join_seconds_count') - series(before, 'watch_join_seconds_count')).toBe(1);
    expect(series(after, 'call_join_seconds_count')).toBe(series(before, 'call_join_seconds_count'));
    expect(series(after, 'ice_candidate_type_total{kind="watch",type="host"}')).toBe(1);
  });

  it('counts a studio’s (publish) route and ICE failures; a publish report has no join time or freezes', async () => {
    const streamer = await t.signUp('Studio', { role: 'streamer' });
    const before = await metrics();
    const published = await report(
      { kind: 'publish', candidateTypes: { relay: 1 }, iceFailures: { restart_failed: 1 } },
      streamer.token,
      liveRoom,
    );
    expect(published.status).toBe(204);
    const after = await metrics();
    expect(series(after, 'ice_candidate_type_total{kind="publish",type="relay"}')).toBe(1);
    expect(series(after, 'ice_failures_total{kind="publish",reason="restart_failed"}')).toBe(1);
    expect(series(after, 'media_reports_total{kind="publish"}')).toBe(1);
    expect(series(after, 'watch_join_seconds_count')).toBe(series(before, 'watch_join_seconds_count'));
    for (const body of [
      { kind: 'publish', joinSeconds: 1 },
      { kind: 'publish', freezes: 1 },
    ]) {
      const res = await report(body, streamer.token, liveRoom);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    // A call room has no studio.
    expect((await report({ kind: 'publish' }, streamer.token, callRoom)).body.error.code).toBe('wrong_room_kind');
  });

  it('refuses forged values with validation_failed, and the histogram does not move', async () => {
    const before = await metrics();
    for (const body of [
      { kind: 'call', joinSeconds: 1e9 },
      { kind: 'call', joinSeconds: -1 },
      { kind: 'call', joinSeconds: 0 },
      { kind: 'call', freezes: 1e6 },
      { kind: 'call', freezes: 1.5 },
      { kind: 'call', candidateTypes: { host: 1e6 } },
      { kind: 'call', candidateTypes: { 'tcp-relay-of-doom': 1 } },
      { kind: 'call', iceFailures: { gremlins: 1 } },
      { kind: 'call', roomId: 'extra' },
      { kind: 'meeting' },
      {},
    ]) {
      const res = await report(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    const after = await metrics();
    expect(series(after, 'call_join_seconds_count')).toBe(series(before, 'call_join_seconds_count'));
    expect(series(after, 'call_join_seconds_sum')).toBe(series(before, 'call_join_seconds_sum'));
    expect(after).not.toContain('tcp-relay-of-doom');
    expect(after).not.toContain('gremlins');
  });

  it('refuses a body over the limit with payload_too_large', async () => {
    const res = await t.call('POST', `/api/rooms/${callRoom}/media-reports`, {
      token: user.token,
      raw: JSON.stringify({ kind: 'call', padding: 'x'.repeat(MEDIA_REPORT_MAX_BYTES) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(413);
    expect(res.body.error.code).toBe('payload_too_large');
  });

  it('needs a session, a room that exists and a session kind that fits it', async () => {
    const anonymous = await t.call('POST', `/api/rooms/${callRoom}/media-reports`, { body: { kind: 'call' } });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    const forged = await report({ kind: 'call' }, 'not-a-token');
    expect(forged.status).toBe(401);
    const missing = await report({ kind: 'call' }, user.token, 'no-such-room');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('room_not_found');
    const wrongKind = await report({ kind: 'watch' }, user.token, callRoom);
    expect(wrongKind.status).toBe(409);
    expect(wrongKind.body.error.code).toBe('wrong_room_kind');
    const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken as string;
    expect((await report({ kind: 'watch', freezes: 1 }, guest, liveRoom)).status).toBe(204);
  });

  it('is in the OpenAPI description with its body schema', async () => {
    const spec = await t.call('GET', '/docs/json');
    expect(spec.status).toBe(200);
    const post = spec.body.paths['/api/rooms/{id}/media-reports'].post;
    const body = post.requestBody.content['application/json'].schema;
    expect(body.properties.kind.enum).toEqual(['call', 'watch', 'publish']);
    expect(body.properties.joinSeconds.maximum).toBe(300);
  });

  it('limits each user to MEDIA_REPORTS_PER_MINUTE reports a minute (others are not affected)', async () => {
    const burster = await t.signUp('Burster');
    const statuses: number[] = [];
    for (let i = 0; i < MEDIA_REPORTS_PER_MINUTE + 3; i++)
      statuses.push((await report({ kind: 'call' }, burster.token)).status);
    expect(statuses.slice(0, MEDIA_REPORTS_PER_MINUTE).every((s) => s === 204)).toBe(true);
    expect(statuses.slice(MEDIA_REPORTS_PER_MINUTE)).toEqual([429, 429, 429]);
    const limited = await report({ kind: 'call' }, burster.token);
    expect(limited.body.error.code).toBe('rate_limited');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Even a body that would fail validation counts against the limit (checked before the body is read).
    expect((await report({ kind: 'call', joinSeconds: 1e9 }, burster.token)).status).toBe(429);
    const other = await t.signUp('Calm');
    expect((await report({ kind: 'call' }, other.token)).status).toBe(204);
  });
});
