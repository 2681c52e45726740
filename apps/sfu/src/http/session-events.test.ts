import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MediaSession } from '../session/media-session.js';
import { SubscriberSession } from '../session/subscriber-session.js';
import { startTestSfu, TestPublisher, type TestSfu, TestSubscriber, waitFor } from '../test-peers.js';
import { draftEventsOf } from './session-events.js';

/** Reads a server-sent event stream as { event, data } pairs until `until` says stop or the stream ends. */
async function readStream(
  url: string,
  until: (events: { event: string; data: unknown }[]) => boolean,
): Promise<{ events: { event: string; data: unknown }[]; ended: boolean }> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const reader = res.body!.getReader();
  const events: { event: string; data: unknown }[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  let ended = false;
  while (!until(events)) {
    const { value, done } = await reader.read();
    if (done) {
      ended = true;
      break;
    }
    buffer += decoder.decode(value);
    for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, i).split('\n');
      buffer = buffer.slice(i + 2);
      const event = block.find((l) => l.startsWith('event: '))?.slice(7);
      const data = block.filter((l) => l.startsWith('data: '));
      // The draft: one data line per event.
      if (event) {
        expect(data).toHaveLength(1);
        events.push({ event, data: JSON.parse(data[0]!.slice(6)) });
      }
    }
  }
  if (!ended) await reader.cancel().catch(() => {});
  return { events, ended };
}

describe('WHEP server-sent events as draft-ietf-wish-whep has them (POST, then GET the stream)', () => {
  let t: TestSfu;
  let pub: TestPublisher;
  beforeAll(async () => {
    t = await startTestSfu();
    pub = new TestPublisher();
    expect((await pub.publish(t.url, 'draft-sse')).status).toBe(201);
    await pub.connected();
    pub.start();
  });
  afterAll(async () => {
    await pub.close();
    await t.close();
  });

  const play = async () => {
    const sub = new TestSubscriber();
    const played = await sub.play(t.url, 'draft-sse');
    expect(played.status).toBe(201);
    const link = played.links.find((l) => l.includes('rel="urn:ietf:params:whep:ext:core:server-sent-events"'))!;
    expect(link).toMatch(/events="active,inactive,layers,viewercount(,|")/);
    const entry = `${t.url}${/<([^>]+)>/.exec(link)![1]}`;
    return { sub, entry };
  };
  const create = (entry: string, body?: unknown) =>
    fetch(entry, {
      method: 'POST',
      ...(body === undefined
        ? {}
        : {
            headers: { 'content-type': 'application/json' },
            body: typeof body === 'string' ? body : JSON.stringify(body),
          }),
    });

  it('makes a stream of the events asked for, queued until pulled; DELETE ends it for good', async () => {
    const { sub, entry } = await play();
    const made = await create(entry, ['active', 'viewercount']);
    expect(made.status).toBe(201);
    const location = made.headers.get('location')!;
    expect(location).toMatch(/\/events\/[A-Za-z0-9_-]{16}$/);
    await waitFor(() => sub.videoPackets > 0, 10_000, 'media');
    // Joined before the first pull: `active` and the count wait in the stream's queue.
    const { events } = await readStream(`${t.url}${location}`, (e) =>
      e.some((x) => x.event === 'viewercount' && (x.data as { viewercount: number }).viewercount === 1),
    );
    expect(events[0]).toEqual({ event: 'active', data: {} });
    expect(events.every((e) => e.event === 'active' || e.event === 'viewercount')).toBe(true);
    expect((await fetch(`${t.url}${location}`, { method: 'DELETE' })).status).toBe(200);
    expect((await fetch(`${t.url}${location}`)).status).toBe(404);
    expect((await fetch(`${t.url}${location}`, { method: 'DELETE' })).status).toBe(404);
    await sub.close();
  });

  it('refuses what the draft does not list, a body that is not a list of names, and a fifth stream', async () => {
    const { sub, entry } = await play();
    const unknown = await create(entry, ['active', 'scte35']);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    expect((await create(entry, { events: ['active'] })).status).toBe(400);
    expect((await create(entry, ['x'.repeat(40)])).status).toBe(400);
    expect(
      (
        await create(
          entry,
          Array.from({ length: 17 }, () => 'active'),
        )
      ).status,
    ).toBe(400);
    // No body: every event the draft names.
    for (let i = 0; i < 4; i++) expect((await create(entry)).status).toBe(201);
    expect((await create(entry)).status).toBe(409);
    // A stream of someone else's session is not found by guessing.
    expect((await fetch(`${entry}/AAAAAAAAAAAAAAAA`)).status).toBe(404);
    await sub.close();
  });

  it("takes back every name the Link lists, as whep.js POSTs them, FusionFlow's own events included", async () => {
    const sub = new TestSubscriber();
    const played = await sub.play(t.url, 'draft-sse');
    const link = played.links.find((l) => l.includes('server-sent-events'))!;
    // whep.js: `params.events.split(",")`, POSTed as they are with its bearer token.
    const names = /events="([^"]+)"/.exec(link)![1]!.split(',');
    expect(names).toEqual(['active', 'inactive', 'layers', 'viewercount', 'viewers', 'ended']);
    const entry = `${t.url}${/<([^>]+)>/.exec(link)![1]}`;
    const made = await create(entry, names);
    expect(made.status).toBe(201);
    await waitFor(() => sub.videoPackets > 0, 10_000, 'media');
    const { events } = await readStream(`${t.url}${made.headers.get('location')}`, (e) =>
      e.some((x) => x.event === 'viewers'),
    );
    expect(events[0]).toEqual({ event: 'active', data: {} });
    expect(events.find((e) => e.event === 'viewercount')?.data).toMatchObject({ viewercount: expect.any(Number) });
    // FusionFlow's own, shaped as on the GET stream.
    expect(events.find((e) => e.event === 'viewers')?.data).toMatchObject({
      type: 'viewers',
      count: expect.any(Number),
    });
    await sub.close();
  });

  it('answers the CORS preflights of a player on another origin (JSON with a bearer token; DELETE)', async () => {
    const { sub, entry } = await play();
    const preflight = (url: string, method: string) =>
      fetch(url, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://player.example',
          'access-control-request-method': method,
          'access-control-request-headers': 'authorization, content-type',
        },
      });
    const post = await preflight(entry, 'POST');
    expect(post.status).toBe(204);
    expect(post.headers.get('access-control-allow-origin')).toBe('*');
    expect(post.headers.get('access-control-allow-methods')).toContain('POST');
    expect(post.headers.get('access-control-allow-headers')).toMatch(
      /authorization.*content-type|content-type.*authorization/,
    );
    const made = await fetch(entry, {
      method: 'POST',
      headers: { origin: 'https://player.example', 'content-type': 'application/json' },
      body: '["active"]',
    });
    expect(made.status).toBe(201);
    // The player reads Location across origins.
    expect(made.headers.get('access-control-expose-headers')).toContain('location');
    const stream = `${t.url}${made.headers.get('location')}`;
    const del = await preflight(stream, 'DELETE');
    expect(del.status).toBe(204);
    expect(del.headers.get('access-control-allow-methods')).toContain('DELETE');
    expect(del.headers.get('access-control-allow-headers')).toContain('authorization');
    const layer = await preflight(entry.replace(/\/events$/, '/layer'), 'POST');
    expect(layer.status).toBe(204);
    expect(layer.headers.get('access-control-allow-methods')).toMatch(/POST.*DELETE/);
    expect(layer.headers.get('access-control-allow-headers')).toContain('authorization');
    await sub.close();
  });

  it('says inactive and ends the stream when the publisher leaves', async () => {
    const { sub, entry } = await play();
    const made = await create(entry);
    const location = made.headers.get('location')!;
    const reading = readStream(`${t.url}${location}`, () => false);
    const withOwn = await create(entry, ['inactive', 'ended']);
    const readingOwn = readStream(`${t.url}${withOwn.headers.get('location')}`, () => false);
    await waitFor(() => sub.videoPackets > 0, 10_000, 'media');
    await fetch(`${t.url}${pub.location}`, { method: 'DELETE' });
    const { events, ended } = await reading;
    expect(ended).toBe(true);
    expect(events.map((e) => e.event)).toContain('active');
    expect(events.at(-1)).toEqual({ event: 'inactive', data: {} });
    // FusionFlow's `ended` (when asked for) comes after the draft's `inactive`, with the reason.
    expect((await readingOwn).events).toEqual([
      { event: 'inactive', data: {} },
      { event: 'ended', data: { type: 'ended', reason: 'publisher_left' } },
    ]);
    // The session is gone, and its streams with it.
    expect((await fetch(`${t.url}${location}`)).status).toBe(404);
    await sub.close();
  });
});

describe('what a draft stream sends for each session event', () => {
  // A viewer's session as far as the mapping looks at it: its simulcast layers as the draft has them.
  const layers = { '0': [{ rid: 'h', bitrate: 1_200_000, width: 1280, height: 720 }, { rid: 'l' }] };
  const viewer = Object.assign(Object.create(SubscriberSession.prototype) as MediaSession, {
    draftLayers: () => layers,
  });

  it('the draft’s names and shapes, and FusionFlow’s own beside them', () => {
    expect(draftEventsOf(viewer, { type: 'viewers', count: 3 })).toEqual([
      { name: 'viewercount', data: { viewercount: 3 } },
      { name: 'viewers', data: { type: 'viewers', count: 3 } },
    ]);
    expect(draftEventsOf(viewer, { type: 'layers', available: ['h', 'l'], current: 'h', heights: { h: 720 } })).toEqual(
      [{ name: 'layers', data: layers }],
    );
    expect(draftEventsOf(viewer, { type: 'ended', reason: 'publisher_left' })).toEqual([
      { name: 'inactive', data: {} },
      { name: 'ended', data: { type: 'ended', reason: 'publisher_left' } },
    ]);
    // Kicked or shut down: the publication may well go on, so no `inactive`; the stream ends with the session.
    expect(draftEventsOf(viewer, { type: 'ended', reason: 'kicked' })).toEqual([
      { name: 'ended', data: { type: 'ended', reason: 'kicked' } },
    ]);
  });
});
