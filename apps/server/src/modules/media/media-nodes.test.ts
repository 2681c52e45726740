import { WhepPlayer } from '@fusionflow/client';
import { signInternalRequest } from '@fusionflow/kit';
import { MEDIA_NODE_REPORT_PATH, type MediaAdminView } from '@fusionflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaStreamTrack } from 'werift';
import { testSfuConfig } from '../../../../sfu/src/config.js';
import { createSfu, type Sfu } from '../../../../sfu/src/main.js';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { LoopbackPeerConnection, offerFrom, publishSynthetic } from '../live/test-media.js';
import { deleteRedisPrefix, testRedisUrl, uniqueRedisPrefix } from '../realtime/test-redis.js';

const secret = 'a-shared-secret-between-control-and-media-nodes';

const until = async (what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 20_000) => {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** The directory the control plane keeps: in memory, and on Redis when REDIS_URL is set. */
const redisUrl = testRedisUrl();
const directories = [
  { name: 'memory' as const, redisUrl: undefined, prefix: undefined },
  ...(redisUrl ? [{ name: 'redis' as const, redisUrl, prefix: uniqueRedisPrefix() }] : []),
];

/**
 * Two SFU nodes (in this process, as `createSfu` makes them) reporting to one control plane: the
 * control plane places publishers on the least-loaded node and their viewers on the room's origin,
 * routes WHIP/WHEP to the node a grant names, skips a draining node, and shows admins both.
 */
describe.each(directories)('SFU nodes in the media directory ($name)', (variant) => {
  let t: TestPlatform;
  let url: string;
  const nodes: Record<'node-a' | 'node-b', Sfu> = {} as never;
  const nodeUrls: Record<string, string> = {};
  const closers: (() => Promise<void> | void)[] = [];
  let admin: { token: string };
  let streamer: { token: string };

  beforeAll(async () => {
    t = await startTestPlatform(testDatabases()[0]!, {
      port: 0,
      sfuInternalSecret: secret,
      mediaNodeTtlSeconds: 60,
      sfuOriginMaxViewers: 1,
      ...(variant.redisUrl ? { redisUrl: variant.redisUrl, redisKeyPrefix: variant.prefix } : {}),
    });
    url = await t.platform.listen();
    const jwks = JSON.stringify(t.platform.services.grants.jwks());
    for (const nodeId of ['node-a', 'node-b'] as const) {
      const sfu = await createSfu(
        testSfuConfig({ controlUrl: url, internalSecret: secret, jwks, nodeId, reportIntervalSeconds: 1 }),
      );
      nodeUrls[nodeId] = await sfu.listen();
      nodes[nodeId] = sfu;
    }
    admin = await t.signUpAs('Media Admin', 'admin');
    streamer = await t.signUp('Node Streamer', { role: 'streamer' });
  }, 60_000);
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    for (const sfu of Object.values(nodes)) await sfu.close();
    await t?.close();
    if (variant.redisUrl && variant.prefix) await deleteRedisPrefix(variant.redisUrl, variant.prefix);
  });

  const view = async (): Promise<MediaAdminView> =>
    (await t.call('GET', '/api/admin/media', { token: admin.token })).body;
  const nodeIn = async (id: string) => (await view()).nodes.find((n) => n.nodeId === id);
  const newRoom = async () =>
    (await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'live', title: 'Nodes' } })).body
      .id as string;
  const grant = async (room: string, role: 'publish' | 'subscribe', token = streamer.token) =>
    t.call('POST', `/api/rooms/${room}/grants`, { token, body: { role } });
  const guest = async () => (await t.call('POST', '/api/auth/guest')).body.accessToken as string;
  /** The grant's URL on this test's control plane (its path and query: the origin is the injected request's). */
  const onControlPlane = (grantUrl: string) => {
    const u = new URL(grantUrl);
    return `${url}${u.pathname}${u.search}`;
  };

  it('lists both reporting nodes for an admin, and refuses the view to anyone else', async () => {
    await until('both nodes reporting', async () => (await view()).nodes.filter((n) => n.healthy).length === 2);
    const v = await view();
    expect(v.nodes.map((n) => [n.nodeId, n.source, n.draining])).toEqual([
      ['node-a', 'report', false],
      ['node-b', 'report', false],
    ]);
    expect(v.nodes[0]).toMatchObject({
      capacity: { maxViewers: 100 },
      load: { viewers: 0, publishers: 0, sessions: 0 },
    });
    expect(v.nodes[0]!.lastSeen).toEqual(expect.any(String));
    expect(v.relays).toEqual([]);
    expect((await t.call('GET', '/api/admin/media', { token: streamer.token })).status).toBe(403);
    expect((await t.call('GET', '/api/admin/media')).status).toBe(401);
  });

  it('puts a publisher on one node as the room origin, and its viewer on the same node, where it receives media', async () => {
    const room = await newRoom();
    const publish = (await grant(room, 'publish')).body;
    expect(publish.node).toBe('node-a');
    expect(publish.whipUrl).toMatch(new RegExp(`/api/whip/publish/${room}\\?node=node-a$`));
    const published = await publishSynthetic({ url: onControlPlane(publish.whipUrl), token: publish.token });
    closers.push(() => published.stop());
    expect(nodes['node-a'].rooms.room(room)).toBeDefined();
    expect(nodes['node-b'].rooms.room(room)).toBeUndefined();
    expect((await view()).origins).toContainEqual({ roomId: room, nodeId: 'node-a' });

    const watch = (await grant(room, 'subscribe', await guest())).body;
    expect(watch.node).toBe('node-a');
    const player = new WhepPlayer({
      url: onControlPlane(watch.whepUrl),
      token: watch.token,
      RTCPeerConnection: LoopbackPeerConnection as never,
      gatherTimeoutMs: 1000,
    });
    closers.push(() => player.stop());
    let packets = 0;
    const count = (track: MediaStreamTrack) => track.onReceiveRtp.subscribe(() => packets++);
    player.on('track', (track) => count(track as unknown as MediaStreamTrack));
    await player.start();
    for (const track of player.tracks) count(track as unknown as MediaStreamTrack);
    // The session URL names the node, so DELETE (and PATCH, /events) reach it through the forwarder.
    expect(player.location).toMatch(/\/api\/whep\/sessions\/node-a~[A-Za-z0-9_-]+$/);
    await until('media on the viewer', () => packets > 10);
    expect(nodes['node-a'].rooms.room(room)?.subscriberCount).toBe(1);
    await player.stop();
    await until('the viewer gone from node-a', () => nodes['node-a'].rooms.sessionCount === 1);

    // Node A reports its publisher: the next room goes to the less-loaded node B.
    await until('node-a reporting its publisher', async () => (await nodeIn('node-a'))?.load?.publishers === 1);
    const second = await newRoom();
    const other = (await grant(second, 'publish')).body;
    expect(other.node).toBe('node-b');
    expect(other.whipUrl).toMatch(/\?node=node-b$/);
  }, 60_000);

  it('past SFU_ORIGIN_MAX_VIEWERS a viewer is placed on the other node and fed through a relay from the origin', async () => {
    const room = await newRoom();
    const publish = (await grant(room, 'publish')).body;
    const originId = publish.node as 'node-a' | 'node-b';
    const edgeId = originId === 'node-a' ? 'node-b' : 'node-a';
    const published = await publishSynthetic({ url: onControlPlane(publish.whipUrl), token: publish.token });
    const players: WhepPlayer[] = [];
    const play = async () => {
      const watch = (await grant(room, 'subscribe', await guest())).body;
      const player = new WhepPlayer({
        url: onControlPlane(watch.whepUrl),
        token: watch.token,
        RTCPeerConnection: LoopbackPeerConnection as never,
        gatherTimeoutMs: 1000,
      });
      players.push(player);
      const got = { packets: 0 };
      const count = (track: MediaStreamTrack) => track.onReceiveRtp.subscribe(() => got.packets++);
      player.on('track', (track) => count(track as unknown as MediaStreamTrack));
      await player.start();
      for (const track of player.tracks) count(track as unknown as MediaStreamTrack);
      return { node: watch.node as string, got };
    };
    try {
      const near = await play();
      expect(near.node).toBe(originId);
      const far = await play();
      expect(far.node).toBe(edgeId);
      await until('media on both viewers', () => near.got.packets > 10 && far.got.packets > 10);
      expect(nodes[edgeId].rooms.room(room)?.relayFrom).toBe(originId);
      expect(nodes[originId].rooms.room(room)?.edgeRelays).toHaveLength(1);
      // The edge reports the relay; the admin view shows it.
      await until('the relay in the admin view', async () =>
        (await view()).relays.some((r) => r.roomId === room && r.from === originId && r.to === edgeId),
      );
      // Prometheus finds every reporting node (each SFU worker is one).
      const targets = (await t.call('GET', '/metrics/targets')).body as {
        targets: string[];
        labels: { node: string };
      }[];
      for (const id of [originId, edgeId]) {
        expect(targets).toContainEqual({ targets: [new URL(nodeUrls[id]!).host], labels: { node: id, worker: '0' } });
      }

      // The streamer ends the broadcast: the room closes on the origin and on the edge.
      expect((await t.call('POST', `/api/rooms/${room}/end`, { token: streamer.token })).status).toBe(200);
      await until(
        'the room closed on both nodes',
        () => !nodes[originId].rooms.room(room) && !nodes[edgeId].rooms.room(room),
        10_000,
      );
    } finally {
      for (const p of players) await p.stop();
      await published.stop();
    }
    await until('the relay gone', () => nodes[edgeId].rooms.room(room) === undefined);
  }, 60_000);

  it('a drained node takes no new session, placement skips it, and it is done once its last session ends', async () => {
    const drained = nodes['node-b'];
    // Sessions placed since a node's last report count as load on it: wait for node-b's next report.
    const since = Date.now();
    await until('a fresh report of node-b', async () => Date.parse((await nodeIn('node-b'))?.lastSeen ?? '') > since);
    const room = await newRoom();
    // node-b is the less loaded (no session; node-a has a publisher).
    const publish = (await grant(room, 'publish')).body;
    expect(publish.node).toBe('node-b');
    const published = await publishSynthetic({ url: onControlPlane(publish.whipUrl), token: publish.token });
    let done: string | undefined;
    drained.drain.on('done', (end) => {
      done = end;
    });

    const watch = (await grant(room, 'subscribe', await guest())).body;
    expect(watch.node).toBe('node-b');
    const path = '/api/admin/drain';
    const body = JSON.stringify({ deadlineSeconds: 600 });
    const res = await fetch(new URL(path, nodeUrls['node-b']), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signInternalRequest(secret, 'POST', path, body) },
      body,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ draining: true, sessions: 1, deadline: expect.any(String) });
    // Unsigned: refused.
    const forged = await fetch(new URL(path, nodeUrls['node-b']), { method: 'POST' });
    expect(forged.status).toBe(401);

    // A new viewer on the drained node (through the forwarder, with a grant issued before the drain): 503 sfu_draining.
    const { pc, sdp } = await offerFrom('recvonly');
    closers.push(() => pc.close());
    const refused = await fetch(onControlPlane(watch.whepUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/sdp', authorization: `Bearer ${watch.token}` },
      body: sdp,
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect((await refused.json()).error.code).toBe('sfu_draining');
    expect(done).toBeUndefined();

    // Once the directory hears of the drain: viewers of its rooms are refused at the grant, new rooms go elsewhere.
    await until('node-b reported draining', async () => (await nodeIn('node-b'))?.draining === true);
    const viewerGrant = await grant(room, 'subscribe', await guest());
    expect(viewerGrant.status).toBe(503);
    expect(viewerGrant.headers['retry-after']).toBe('5');
    expect(viewerGrant.body.error.code).toBe('sfu_full');
    const elsewhere = (await grant(await newRoom(), 'publish')).body;
    expect(elsewhere.node).toBe('node-a');

    // The last session ends: the node is done draining (bin.ts then closes it as on SIGTERM).
    await published.stop();
    await until('the drain done', () => done !== undefined);
    expect(done).toBe('empty');
  }, 60_000);

  const report = (patch: Record<string, unknown> = {}) => ({
    nodeId: 'node-x',
    url: 'http://127.0.0.1:9',
    draining: false,
    capacity: { maxViewers: 10 },
    load: { viewers: 0, publishers: 0, sessions: 0 },
    rooms: [],
    sentAt: new Date().toISOString(),
    ...patch,
  });
  const post = (body: string, headers: Record<string, string>) =>
    t.call('POST', MEDIA_NODE_REPORT_PATH, { raw: body, headers: { 'content-type': 'application/json', ...headers } });
  const signed = (body: string, signWith = secret, at = Date.now()) =>
    post(body, signInternalRequest(signWith, 'POST', MEDIA_NODE_REPORT_PATH, body, at));

  it('refuses a forged, unsigned or replayed report (401), and a malformed or oversized one (400, 413)', async () => {
    const body = JSON.stringify(report());
    expect((await signed(body, 'not-the-secret-not-the-secret-not-the-secret')).status).toBe(401);
    expect((await post(body, {})).status).toBe(401);
    // A captured report replayed later than the signature's allowed skew.
    expect((await signed(body, secret, Date.now() - 120_000)).status).toBe(401);
    // Signed over one body, sent with another.
    const headers = signInternalRequest(secret, 'POST', MEDIA_NODE_REPORT_PATH, body);
    expect((await post(JSON.stringify(report({ nodeId: 'node-y' })), headers)).status).toBe(401);
    expect(await nodeIn('node-x')).toBeUndefined();

    const malformed = await signed('{not json');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('malformed_json');
    for (const bad of [
      report({ nodeId: 'bad id with spaces' }),
      report({ url: 'javascript:alert(1)' }),
      report({ load: { viewers: -1, publishers: 0, sessions: 0 } }),
      report({ extra: true }),
      report({ rooms: Array.from({ length: 2001 }, (_, i) => ({ roomId: `r${i}`, hasPublisher: false, viewers: 0 })) }),
    ]) {
      const res = await signed(JSON.stringify(bad));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    const huge = await signed(JSON.stringify(report({ sentAt: 'x'.repeat(300_000) })));
    expect(huge.status).toBe(413);
    expect(await nodeIn('node-x')).toBeUndefined();

    expect((await signed(body)).status).toBe(204);
    expect(await nodeIn('node-x')).toMatchObject({ healthy: true, source: 'report', url: 'http://127.0.0.1:9' });
  });
});
