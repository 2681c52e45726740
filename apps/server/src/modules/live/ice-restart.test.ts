import { RetryingWhepPlayer, type RetryingWhepState, WhepPlayer } from '@fusionflow/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaStreamTrack } from 'werift';
import { testSfuConfig } from '../../../../sfu/src/config.js';
import { createSfu, type Sfu } from '../../../../sfu/src/main.js';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { LoopbackPeerConnection, publishSynthetic } from './test-media.js';

const secret = 'a-shared-secret-between-control-and-media-nodes';

const until = async (what: string, predicate: () => boolean, timeoutMs = 20_000) => {
  const started = Date.now();
  while (!predicate()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

/** Packets a player's tracks received (werift tracks count them). */
function countPackets(player: WhepPlayer): { packets: number } {
  const counter = { packets: 0 };
  const watch = (track: MediaStreamTrack) => track.onReceiveRtp.subscribe(() => counter.packets++);
  for (const t of player.tracks) watch(t as unknown as MediaStreamTrack);
  player.on('track', (t) => watch(t as unknown as MediaStreamTrack));
  return counter;
}

const ufragOf = (sdp: string | undefined) => /^a=ice-ufrag:(.+)$/m.exec(sdp ?? '')?.[1]?.trim();

/** A network that changes when the test says so (what `watchNetworkChanges` tells in a browser). */
function fakeNetwork() {
  const listeners = new Set<() => void>();
  return {
    watch: (onChange: () => void) => {
      listeners.add(onChange);
      return () => listeners.delete(onChange);
    },
    change: () => {
      for (const l of listeners) l();
    },
  };
}

/**
 * ICE restarts of the SDK's WHEP player and WHIP publisher (RFC 9725 §4.4) against a real SFU node behind the control
 * plane's forwarder: a PATCH with new credentials, the SFU's new fragment applied, media going on; and when the
 * server no longer has the session, a fresh session with a fresh grant.
 */
describe('ICE restarts of WHEP players and WHIP publishers', () => {
  let t: TestPlatform;
  let url: string;
  let sfu: Sfu;
  let streamer: { token: string };
  const closers: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    t = await startTestPlatform(testDatabases()[0]!, { port: 0, sfuInternalSecret: secret, mediaNodeTtlSeconds: 60 });
    url = await t.platform.listen();
    sfu = await createSfu(
      testSfuConfig({
        controlUrl: url,
        internalSecret: secret,
        jwks: JSON.stringify(t.platform.services.grants.jwks()),
        nodeId: 'node-r',
        reportIntervalSeconds: 1,
      }),
    );
    await sfu.listen();
    streamer = await t.signUp('Restart Streamer', { role: 'streamer' });
    // The node must have reported before a grant can name it.
    for (let i = 0; i < 100; i++) {
      const room = (await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'live', title: 'x' } }))
        .body.id as string;
      const g = await t.call('POST', `/api/rooms/${room}/grants`, { token: streamer.token, body: { role: 'publish' } });
      if (g.status === 200 || g.status === 201) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    await sfu?.close();
    await t?.close();
  });

  const onControlPlane = (grantUrl: string) => {
    const u = new URL(grantUrl);
    return `${url}${u.pathname}${u.search}`;
  };
  const sessionOf = (location: string | null) => sfu.rooms.session(location!.split('~').pop()!)!;
  const liveRoom = async () => {
    const room = (await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'live', title: 'R' } }))
      .body.id as string;
    const publish = (
      await t.call('POST', `/api/rooms/${room}/grants`, { token: streamer.token, body: { role: 'publish' } })
    ).body;
    const published = await publishSynthetic({ url: onControlPlane(publish.whipUrl), token: publish.token });
    closers.push(() => published.stop());
    return { room, published };
  };
  const watchGrant = async (room: string) => {
    const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken as string;
    const g = (await t.call('POST', `/api/rooms/${room}/grants`, { token: guest, body: { role: 'subscribe' } })).body;
    return { url: onControlPlane(g.whepUrl), token: g.token as string };
  };
  const play = async (room: string) => {
    const player = new WhepPlayer({
      ...(await watchGrant(room)),
      RTCPeerConnection: LoopbackPeerConnection as never,
      gatherTimeoutMs: 1000,
      autoRestartIce: false,
    });
    closers.push(() => player.stop());
    const counter = countPackets(player);
    await player.start();
    await until('media on the viewer', () => counter.packets > 10);
    return { player, counter };
  };

  it('restarts a WHEP player’s ICE with new credentials on both sides, and media keeps coming', async () => {
    const { room } = await liveRoom();
    const { player, counter } = await play(room);
    const session = sessionOf(player.location);
    const etag = session.etag;
    expect(player.etag).toBe(etag);
    const clientUfrag = ufragOf(player.pc.localDescription?.sdp);
    const serverUfrag = ufragOf(player.pc.remoteDescription?.sdp);

    await player.restartIce();

    expect(session.etag).not.toBe(etag);
    expect(player.etag).toBe(session.etag);
    expect(ufragOf(player.pc.localDescription?.sdp)).not.toBe(clientUfrag);
    expect(ufragOf(player.pc.remoteDescription?.sdp)).not.toBe(serverUfrag);
    // The SFU's ETag is its own new ufrag, and it now talks to the player's new one.
    expect(session.etag).toBe(`"${ufragOf(player.pc.remoteDescription?.sdp)}"`);
    expect(ufragOf(session.pc.remoteDescription?.sdp)).toBe(ufragOf(player.pc.localDescription?.sdp));
    const after = counter.packets;
    await until('media after the restart', () => counter.packets > after + 20);
    expect(session.closed).toBe(false);
  }, 60_000);

  it('restarts a WHIP publisher’s ICE, and its viewers keep receiving', async () => {
    const { room, published } = await liveRoom();
    const { counter } = await play(room);
    const session = sessionOf(published.publisher.location);
    const etag = session.etag;

    await published.publisher.restartIce();

    expect(session.etag).not.toBe(etag);
    expect(published.publisher.etag).toBe(session.etag);
    const after = counter.packets;
    await until('media after the publisher’s restart', () => counter.packets > after + 20);
  }, 60_000);

  it('restarts ICE on a network change, and starts over with a fresh grant when the session is gone (404)', async () => {
    const { room } = await liveRoom();
    const network = fakeNetwork();
    let grants = 0;
    const states: RetryingWhepState[] = [];
    const players: WhepPlayer[] = [];
    const counters: { packets: number }[] = [];
    const viewer = new RetryingWhepPlayer({
      session: async () => {
        grants++;
        return {
          ...(await watchGrant(room)),
          RTCPeerConnection: LoopbackPeerConnection as never,
          gatherTimeoutMs: 1000,
          watchNetwork: network.watch,
        };
      },
      backoff: { initialMs: 50, maxMs: 100 },
      random: () => 0.5,
    });
    closers.push(() => viewer.stop());
    viewer.on('state', (s) => states.push(s));
    viewer.on('player', (p) => {
      players.push(p);
      counters.push(countPackets(p));
    });
    viewer.start();
    await until('playing', () => viewer.state.state === 'playing');
    await until('media', () => counters[0]!.packets > 10);
    const first = players[0]!;
    const firstSession = sessionOf(first.location);

    // A network change restarts ICE on the same session: no new session, media goes on.
    const restarts: string[] = [];
    first.on('iceRestart', (e) => restarts.push(e.state));
    const etag = firstSession.etag;
    network.change();
    await until('restarted', () => restarts.includes('restarted'));
    expect(restarts).toEqual(['restarting', 'restarted']);
    expect(firstSession.etag).not.toBe(etag);
    const before = counters[0]!.packets;
    await until('media after the restart', () => counters[0]!.packets > before + 20);
    expect(players).toHaveLength(1);
    expect(grants).toBe(1);

    // The server forgets the session: the next restart finds it gone and the player starts over.
    await firstSession.close('kicked'); // the server forgets it; the player does not know (no events in Node)
    expect((await fetch(first.location!, { method: 'DELETE' })).status).toBe(404);

    network.change();
    await until('a new player', () => players.length === 2);
    expect(states.find((s) => s.state === 'retrying')).toMatchObject({
      failure: { reason: 'ice_failed', error: { status: 404 } },
    });
    expect(grants).toBe(2);
    expect(players[1]!.location).not.toBe(first.location);
    await until('playing again', () => viewer.state.state === 'playing');
    await until('media again', () => counters[1]!.packets > 10);
  }, 60_000);
});
