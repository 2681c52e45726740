import { signInternalRequest } from '@fusionflow/kit';
import { GrantClaims, MEDIA_NODE_REPORT_PATH, type MediaAdminView, type SfuNodeReport } from '@fusionflow/protocol';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { deleteRedisPrefix, testRedisUrl, uniqueRedisPrefix } from '../realtime/test-redis.js';

const secret = 'a-shared-secret-between-control-and-media-nodes';

/** The directory the control plane keeps: in memory, and on Redis when REDIS_URL is set. */
const redisUrl = testRedisUrl();
const directories = [
  { name: 'memory' as const, redisUrl: undefined, prefix: undefined },
  ...(redisUrl ? [{ name: 'redis' as const, redisUrl, prefix: uniqueRedisPrefix() }] : []),
];

/**
 * Viewers placed off the room's origin (SFU_ORIGIN_MAX_VIEWERS) through the whole grant path: nodes report
 * themselves (signed reports, no SFU running), the grant names the edge and carries the `relay` claim naming the
 * origin, and the admin view shows the relays nodes report.
 */
describe.each(directories)('viewers on edges, fed by relays ($name directory)', (variant) => {
  let t: TestPlatform;
  let streamer: { token: string };
  let admin: { token: string };
  let room: string;

  const send = async (report: SfuNodeReport) => {
    const body = JSON.stringify(report);
    const res = await t.call('POST', MEDIA_NODE_REPORT_PATH, {
      raw: body,
      headers: {
        'content-type': 'application/json',
        ...signInternalRequest(secret, 'POST', MEDIA_NODE_REPORT_PATH, body),
      },
    });
    expect(res.status).toBe(204);
  };
  const node = (nodeId: string, rooms: SfuNodeReport['rooms'] = [], viewers = 0): SfuNodeReport => ({
    nodeId,
    url: `http://127.0.0.1:${nodeId === 'origin' ? 9 : 10}`,
    draining: false,
    capacity: { maxViewers: 10 },
    load: { viewers, publishers: rooms.filter((r) => r.hasPublisher).length, sessions: viewers },
    rooms,
    sentAt: new Date().toISOString(),
  });
  const grant = async (role: 'publish' | 'subscribe', token: string) =>
    t.call('POST', `/api/rooms/${room}/grants`, { token, body: { role } });
  const guest = async () => (await t.call('POST', '/api/auth/guest')).body.accessToken as string;
  const claimsOf = async (token: string) => {
    const jwks = (await t.call('GET', '/.well-known/jwks.json')).body;
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks), {
      issuer: 'fusionflow-control',
      audience: 'fusionflow-media',
      algorithms: ['EdDSA'],
    });
    return GrantClaims.parse(payload);
  };

  beforeAll(async () => {
    t = await startTestPlatform(testDatabases()[0]!, {
      sfuInternalSecret: secret,
      mediaNodeTtlSeconds: 60,
      sfuOriginMaxViewers: 2,
      ...(variant.redisUrl ? { redisUrl: variant.redisUrl, redisKeyPrefix: variant.prefix } : {}),
    });
    streamer = await t.signUp('Relay Streamer', { role: 'streamer' });
    admin = await t.signUpAs('Relay Admin', 'admin');
    room = (await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'live', title: 'Relayed' } }))
      .body.id;
  });
  afterAll(async () => {
    await t?.close();
    if (variant.redisUrl && variant.prefix) await deleteRedisPrefix(variant.redisUrl, variant.prefix);
  });

  it('names the origin in the relay claim exactly when a viewer is placed off it', async () => {
    await send(node('origin', [{ roomId: room as never, hasPublisher: true, viewers: 1 }], 1));
    await send(node('edge'));
    // The publisher stays on its origin; a publish grant never carries a relay.
    const publish = (await grant('publish', streamer.token)).body;
    expect(publish.node).toBe('origin');
    expect((await claimsOf(publish.token)).relay).toBeUndefined();

    // One viewer reported on the origin, a second placed there: the limit (2).
    const first = (await grant('subscribe', await guest())).body;
    expect(first.node).toBe('origin');
    expect(first.whepUrl).toMatch(new RegExp(`/api/whep/play/${room}\\?node=origin$`));
    const firstClaims = await claimsOf(first.token);
    expect(firstClaims).toMatchObject({ role: 'subscribe', node: 'origin' });
    expect(firstClaims.relay).toBeUndefined();

    const second = (await grant('subscribe', await guest())).body;
    expect(second.node).toBe('edge');
    expect(second.whepUrl).toMatch(new RegExp(`/api/whep/play/${room}\\?node=edge$`));
    expect(second).not.toHaveProperty('relay');
    const secondClaims = await claimsOf(second.token);
    expect(secondClaims).toMatchObject({ role: 'subscribe', node: 'edge' });
    expect(secondClaims.relay).toEqual({ node: 'origin', url: 'http://127.0.0.1:9' });
  });

  it('shows the relays the nodes report in the admin view, and keeps viewers on the relaying edge', async () => {
    await send(node('edge', [{ roomId: room as never, hasPublisher: false, viewers: 1, relayFrom: 'origin' }], 1));
    const view: MediaAdminView = (await t.call('GET', '/api/admin/media', { token: admin.token })).body;
    expect(view.relays).toEqual([{ roomId: room, from: 'origin', to: 'edge' }]);
    expect(view.origins).toContainEqual({ roomId: room, nodeId: 'origin' });
    // The node's rooms as MediaNodeView has them (its schema has no relayFrom: `relays` carries it).
    expect(view.nodes.find((n) => n.nodeId === 'edge')?.rooms).toEqual([
      expect.objectContaining({ roomId: room, hasPublisher: false, viewers: 1 }),
    ]);

    const third = (await grant('subscribe', await guest())).body;
    expect(third.node).toBe('edge');
    expect((await claimsOf(third.token)).relay).toEqual({ node: 'origin', url: 'http://127.0.0.1:9' });
  });
});
