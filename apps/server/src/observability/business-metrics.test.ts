import { randomUUID } from 'node:crypto';
import { WhepPlayer } from '@fusionflow/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../db/test-databases.js';
import { LoopbackPeerConnection, publishSynthetic } from '../modules/live/test-media.js';
import { connectPeer, type TestPeer } from '../modules/signaling/test-signaling.js';
import { startTestPlatform, type TestPlatform } from '../test-support.js';

/** A sample of the exposition: the value of `name{…labels…}` (summed over series containing `labels`). */
function sample(text: string, name: string, labels = ''): number {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name && (m[2] ?? '').includes(labels)) {
      sum += Number(m[3]);
      found = true;
    }
  }
  return found ? sum : Number.NaN;
}

/**
 * The seeds' business and quality series as a real platform (embedded SFU, werift peers) produces
 * them: viewers' join attempts, joins, join time and watch time; call minutes; tokens spent by kind;
 * live totals, active users and dependencies from the database at scrape time.
 */
describe.each(testDatabases())('business and quality metrics ($name)', (db) => {
  let t: TestPlatform;
  let url: string;
  const closers: (() => Promise<void> | void)[] = [];
  const scrape = async () => {
    const res = await t.call('GET', '/metrics');
    if (typeof res.body !== 'string') throw new Error(JSON.stringify(res.body));
    return res.body;
  };

  beforeAll(async () => {
    t = await startTestPlatform(
      db,
      { port: 0, sfuEmbedded: true, paymentsDevProvider: 'true' },
      {
        env: { PATH: process.env.PATH, ICE_ADDRESSES: '127.0.0.1', ICE_ONLY_ADDRESSES: 'true', LOG_LEVEL: 'silent' },
        metricsTotalsTtlMs: 0,
      },
    );
    url = await t.platform.listen();
  }, 60_000);
  afterAll(async () => {
    for (const c of closers.reverse()) await c();
    await t?.close();
  });

  it('counts a viewer: attempts by result, the join, its time and the watch time; live totals', async () => {
    const streamer = await t.signUp('Metric Streamer', { role: 'streamer' });
    const room = (await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'live', title: 'M' } }))
      .body;
    const publish = (
      await t.call('POST', `/api/rooms/${room.id}/grants`, { token: streamer.token, body: { role: 'publish' } })
    ).body;
    const published = await publishSynthetic({
      url: `${url}/api/whip/publish/${room.id}`,
      token: publish.token,
      audio: false,
    });
    closers.push(() => published.stop());
    for (let i = 0; i < 100 && (await t.call('GET', `/api/rooms/${room.id}`)).body.status !== 'live'; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }

    // Refused: no grant.
    const refused = await fetch(`${url}/api/whep/play/${room.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: 'v=0\r\n',
    });
    expect(refused.status).toBe(401);
    const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken;
    const play = (await t.call('POST', `/api/rooms/${room.id}/grants`, { token: guest, body: { role: 'subscribe' } }))
      .body;
    const player = new WhepPlayer({
      url: `${url}/api/whep/play/${room.id}`,
      token: play.token,
      RTCPeerConnection: LoopbackPeerConnection as never,
      gatherTimeoutMs: 1000,
    });
    closers.push(() => player.stop());
    await player.start();

    let text = '';
    for (let i = 0; i < 100; i++) {
      text = await scrape();
      if (sample(text, 'viewer_joins_total') === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sample(text, 'viewer_join_attempts_total', 'result="answered"')).toBe(1);
    expect(sample(text, 'viewer_join_attempts_total', 'result="refused"')).toBe(1);
    expect(sample(text, 'viewer_joins_total')).toBe(1);
    expect(sample(text, 'viewer_join_seconds_count')).toBe(1);
    expect(sample(text, 'viewer_join_seconds_sum')).toBeGreaterThan(0);
    expect(sample(text, 'platform_live_rooms')).toBe(1);
    expect(sample(text, 'platform_dependency_up', 'dependency="database"')).toBe(1);
    expect(sample(text, 'platform_dependency_up', 'dependency="sfu"')).toBe(1);
    // Watch time grows while the viewer watches, counted at each scrape.
    await new Promise((r) => setTimeout(r, 600));
    const watched = sample(await scrape(), 'viewer_watch_seconds_total');
    expect(watched).toBeGreaterThan(0.5);
    expect(watched).toBeLessThan(60);
  }, 60_000);

  it('counts call minutes while a call lasts, and stops counting when people leave', async () => {
    const host = await t.signUp('Metric Host');
    const guest = await t.signUp('Metric Guest');
    const room = (await t.call('POST', '/api/rooms', { token: host.token, body: { kind: 'call', title: 'C' } })).body;
    const peers: TestPeer[] = [await connectPeer(url, host.token), await connectPeer(url, guest.token)];
    closers.push(() => {
      for (const p of peers) p.close();
    });
    for (const p of peers) {
      p.emit('join', { roomId: room.id });
      await p.next('joined');
    }
    expect(sample(await scrape(), 'call_participants')).toBe(2);
    const before = sample(await scrape(), 'call_participant_seconds_total', 'paid="false"');
    await new Promise((r) => setTimeout(r, 500));
    const during = sample(await scrape(), 'call_participant_seconds_total', 'paid="false"');
    // Two people for half a second: about one participant-second.
    expect(during - before).toBeGreaterThan(0.8);
    for (const p of peers) p.close();
    for (let i = 0; i < 50 && sample(await scrape(), 'call_participants') !== 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
    }
    const after = sample(await scrape(), 'call_participant_seconds_total', 'paid="false"');
    await new Promise((r) => setTimeout(r, 300));
    expect(sample(await scrape(), 'call_participant_seconds_total', 'paid="false"')).toBe(after);
  });

  it('counts tokens spent by kind, and active users from the database', async () => {
    const streamer = await t.signUp('Metric Earner', { role: 'streamer' });
    const viewer = await t.signUp('Metric Spender');
    const room = (await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'live', title: 'T' } }))
      .body;
    await t.call('POST', '/api/wallet/purchases', {
      token: viewer.token,
      headers: { 'idempotency-key': randomUUID() },
      body: { packId: 'starter', expectedPriceCents: 499, provider: 'dev' },
    });
    const before = sample(await scrape(), 'wallet_tokens_spent_total', 'kind="tip"');
    const tip = await t.call('POST', `/api/rooms/${room.id}/tips`, {
      token: viewer.token,
      headers: { 'idempotency-key': 'the-same-key' },
      body: { amount: 37 },
    });
    expect(tip.status).toBe(201);
    // A replay moves no money and counts nothing.
    await t.call('POST', `/api/rooms/${room.id}/tips`, {
      token: viewer.token,
      headers: { 'idempotency-key': 'the-same-key' },
      body: { amount: 37 },
    });
    const text = await scrape();
    expect(sample(text, 'wallet_tokens_spent_total', 'kind="tip"') - (Number.isNaN(before) ? 0 : before)).toBe(37);
    expect(sample(text, 'platform_active_users', 'window="1d"')).toBeGreaterThanOrEqual(2);
  });
});
