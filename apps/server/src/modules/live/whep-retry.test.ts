import { RetryingWhepPlayer, type RetryingWhepState, WhepPlayer } from '@fusionflow/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaStreamTrack } from 'werift';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { LoopbackPeerConnection, publishSynthetic } from './test-media.js';

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

/**
 * The whole path of a refused viewer: the embedded SFU at its SFU_MAX_VIEWERS answers 503 sfu_full with Retry-After
 * through the control plane's forwarder; the SDK's RetryingWhepPlayer waits at least that long, asks for a fresh
 * grant and gets in once a place is free; a session whose peer connection closes is replaced by a new one.
 */
describe.each(testDatabases().slice(0, 1))('RetryingWhepPlayer against a full SFU ($name)', (db) => {
  let t: TestPlatform;
  let url: string;
  const closers: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    t = await startTestPlatform(
      db,
      { port: 0, sfuEmbedded: true },
      {
        env: {
          PATH: process.env.PATH,
          ICE_ADDRESSES: '127.0.0.1',
          ICE_ONLY_ADDRESSES: 'true',
          LOG_LEVEL: 'silent',
          SFU_MAX_VIEWERS: '1',
          SFU_FULL_RETRY_AFTER_SECONDS: '1',
        },
      },
    );
    url = await t.platform.listen();
  }, 60_000);
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    await t?.close();
  });

  it('retries a 503 after Retry-After, plays once a place is free, and replaces a session that closed', async () => {
    const streamer = await t.signUp('Full Streamer', { role: 'streamer' });
    const room = (await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'live', title: 'F' } }))
      .body;
    const publish = (
      await t.call('POST', `/api/rooms/${room.id}/grants`, { token: streamer.token, body: { role: 'publish' } })
    ).body;
    const published = await publishSynthetic({ url: `${url}/api/whip/publish/${room.id}`, token: publish.token });
    closers.push(() => published.stop());
    for (let i = 0; i < 100 && (await t.call('GET', `/api/rooms/${room.id}`)).body.status !== 'live'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }

    const grant = async () => {
      const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken;
      return (await t.call('POST', `/api/rooms/${room.id}/grants`, { token: guest, body: { role: 'subscribe' } }))
        .body as { token: string };
    };

    // The first viewer takes the SFU's only place.
    const first = new WhepPlayer({
      url: `${url}/api/whep/play/${room.id}`,
      token: (await grant()).token,
      RTCPeerConnection: LoopbackPeerConnection as never,
      gatherTimeoutMs: 1000,
    });
    closers.push(() => first.stop());
    await first.start();

    let grants = 0;
    const states: RetryingWhepState[] = [];
    const players: WhepPlayer[] = [];
    const counters: { packets: number }[] = [];
    const viewer = new RetryingWhepPlayer({
      session: async () => {
        grants++;
        return {
          url: `${url}/api/whep/play/${room.id}`,
          token: (await grant()).token,
          RTCPeerConnection: LoopbackPeerConnection as never,
          gatherTimeoutMs: 1000,
        };
      },
      backoff: { initialMs: 100, maxMs: 400 },
      random: () => 0.5,
    });
    closers.push(() => viewer.stop());
    viewer.on('state', (s) => states.push(s));
    viewer.on('player', (p) => {
      players.push(p);
      counters.push(countPackets(p));
    });
    viewer.start();

    await until('a refusal', () => states.some((s) => s.state === 'retrying'));
    const refused = states.find((s) => s.state === 'retrying')!;
    expect(refused).toMatchObject({ failure: { reason: 'full', retryAfterSeconds: 1 }, attempt: 1 });
    // Retry-After 1 s, spread by half the jitter drawn: 1.25 s, longer than the backoff's own 75 ms.
    expect(refused.state === 'retrying' && refused.retryInMs).toBe(1250);
    await until('a second refusal', () => states.filter((s) => s.state === 'retrying').length >= 2);
    expect(players).toHaveLength(0);

    // A place frees up: the next attempt plays, with a fresh grant.
    await first.stop();
    await until('playing', () => viewer.state.state === 'playing');
    expect(grants).toBeGreaterThanOrEqual(3);
    expect(players).toHaveLength(1);
    await until('media', () => counters[0]!.packets > 10);

    // The peer connection closes under it (as when ICE fails): a new session, media again.
    const retriesBefore = states.filter((s) => s.state === 'retrying').length;
    players[0]!.pc.close();
    await until('a new player', () => players.length === 2);
    expect(states.filter((s) => s.state === 'retrying').slice(retriesBefore)[0]).toMatchObject({
      failure: { reason: 'closed' },
    });
    await until('playing again', () => viewer.state.state === 'playing');
    await until('media again', () => counters[1]!.packets > 10);

    await viewer.stop();
    expect(viewer.state.state).toBe('stopped');

    // A player stopped while its offer is out deletes the session the server makes for it: the place is free again.
    const hasty = new WhepPlayer({
      url: `${url}/api/whep/play/${room.id}`,
      token: (await grant()).token,
      RTCPeerConnection: LoopbackPeerConnection as never,
      gatherTimeoutMs: 1000,
    });
    const started = hasty.start();
    await new Promise((r) => setTimeout(r, 20));
    await hasty.stop();
    await started.catch(() => undefined);
    const next = new WhepPlayer({
      url: `${url}/api/whep/play/${room.id}`,
      token: (await grant()).token,
      RTCPeerConnection: LoopbackPeerConnection as never,
      gatherTimeoutMs: 1000,
    });
    closers.push(() => next.stop());
    await next.start();
    expect(next.location).toMatch(/\/api\/whep\/sessions\//);
  }, 90_000);
});
