import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { textHash } from '../chat/chat-store.js';

const FILE_BYTES = 10_000;

describe.each(testDatabases())('the replays API ($name)', (db) => {
  let t: TestPlatform;
  let dir: string;
  let owner: { token: string; id: string };
  let other: { token: string; id: string };
  let admin: { token: string; id: string };
  const content = randomBytes(FILE_BYTES);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ff-replays-'));
    t = await startTestPlatform(db, { recordingsDir: dir, paymentsDevProvider: 'true' });
    owner = await t.signUp('Streamer', { role: 'streamer' });
    other = await t.signUp('Someone');
    admin = await t.signUpAs('Admin', 'admin');
  });
  afterAll(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const newRoom = async (extra: Record<string, unknown> = {}) => {
    const res = await t.call('POST', '/api/rooms', {
      token: owner.token,
      body: { kind: 'live', title: 'Show', ...extra },
    });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };
  /** A finished recording of the room, with its file on the disk the SFU shares. */
  const recorded = async (
    roomId: string,
    o: { hidden?: boolean; startedAt?: Date; status?: 'ready' | 'recording'; title?: string } = {},
  ) => {
    const id = randomBytes(16).toString('base64url');
    const name = `${id}.webm`;
    writeFileSync(join(dir, name), content);
    const startedAt = o.startedAt ?? new Date(Date.now() - 60_000);
    await t.database.db
      .insertInto('recordings')
      .values({
        id,
        room_id: roomId,
        owner_id: owner.id,
        status: o.status ?? 'ready',
        format: 'webm',
        title: o.title ?? 'Show',
        hidden: o.hidden ?? false,
        started_at: startedAt,
        ended_at: new Date(startedAt.getTime() + 30_000),
        duration_ms: 30_000,
        files: JSON.stringify([{ name, storage: 'local', key: name, bytes: FILE_BYTES, contentType: 'video/webm' }]),
        deleted_at: null,
        created_at: new Date(),
      })
      .execute();
    return { id, name };
  };
  const playback = async (id: string, token?: string) =>
    t.call('POST', `/api/replays/${id}/playback`, token ? { token } : {});
  const media = (url: string, headers: Record<string, string> = {}) => t.call('GET', url, { headers });
  /** The user buys the first token pack (dev payments). */
  const buyTokens = async (token: string) => {
    const packs = (await t.call('GET', '/api/wallet/packs')).body.packs as { id: string; priceCents: number }[];
    const bought = await t.call('POST', '/api/wallet/purchases', {
      token,
      headers: { 'idempotency-key': randomUUID() },
      body: { packId: packs[0]!.id, expectedPriceCents: packs[0]!.priceCents, provider: 'dev' },
    });
    expect(bought.status).toBe(201);
  };

  it('lists ready, visible replays newest first; the owner also sees their hidden ones', async () => {
    const room = await newRoom();
    const a = await recorded(room, { title: 'First' });
    const b = await recorded(room, { title: 'Second' });
    const hidden = await recorded(room, { hidden: true, title: 'Hidden' });
    const open = await recorded(await newRoom(), { status: 'recording' });
    const ids = (res: { body: { replays: { id: string }[] } }) => res.body.replays.map((r) => r.id);

    const all = await t.call('GET', '/api/replays');
    expect(all.status).toBe(200);
    expect(ids(all).indexOf(b.id)).toBeLessThan(ids(all).indexOf(a.id));
    expect(ids(all)).not.toContain(hidden.id);
    expect(ids(all)).not.toContain(open.id);

    const theirs = await t.call('GET', `/api/replays?owner=${owner.id}&limit=2`, { token: other.token });
    expect(ids(theirs)).toEqual([b.id, a.id]);
    const mine = await t.call('GET', `/api/replays?owner=${owner.id}&limit=3`, { token: owner.token });
    expect(ids(mine)).toEqual([hidden.id, b.id, a.id]);
    expect(mine.body.replays[0]).toMatchObject({ hidden: true, title: 'Hidden', ownerName: 'Streamer' });

    expect((await t.call('GET', '/api/replays?limit=51')).status).toBe(400);
    expect((await t.call('GET', '/api/replays?nonsense=1')).status).toBe(400);
    const page = await t.call('GET', '/api/replays');
    expect(page.body.replays.length).toBeLessThanOrEqual(20);
  });

  it('shows one replay; hidden ones only to the owner and admins, deleted ones to nobody', async () => {
    const room = await newRoom();
    const visible = await recorded(room);
    const hidden = await recorded(room, { hidden: true });
    const got = await t.call('GET', `/api/replays/${visible.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: visible.id, roomId: room, status: 'ready', durationMs: 30_000 });
    const refused = await t.call('GET', `/api/replays/${hidden.id}`, { token: other.token });
    expect(refused.status).toBe(404);
    expect(refused.body.error.code).toBe('recording_not_found');
    expect((await t.call('GET', `/api/replays/${hidden.id}`)).status).toBe(404);
    expect((await t.call('GET', `/api/replays/${hidden.id}`, { token: owner.token })).status).toBe(200);
    expect((await t.call('GET', `/api/replays/${hidden.id}`, { token: admin.token })).status).toBe(200);
    expect((await t.call('GET', '/api/replays/NoSuchReplay123')).status).toBe(404);
  });

  it('lets the owner and admins rename and hide a replay; others get 403', async () => {
    const { id } = await recorded(await newRoom());
    const renamed = await t.call('PATCH', `/api/replays/${id}`, {
      token: owner.token,
      body: { title: '  Best of  ' },
    });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ title: 'Best of', hidden: false });
    const byAdmin = await t.call('PATCH', `/api/replays/${id}`, { token: admin.token, body: { hidden: true } });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body.hidden).toBe(true);
    await t.call('PATCH', `/api/replays/${id}`, { token: owner.token, body: { hidden: false } });

    const foreign = await t.call('PATCH', `/api/replays/${id}`, { token: other.token, body: { title: 'Mine now' } });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.code).toBe('not_room_owner');
    expect((await t.call('PATCH', `/api/replays/${id}`, { body: { title: 'x' } })).status).toBe(401);
    for (const body of [{}, { title: '' }, { title: 'x'.repeat(141) }, { title: 'ok', extra: 1 }, { hidden: 'yes' }]) {
      expect((await t.call('PATCH', `/api/replays/${id}`, { token: owner.token, body })).status).toBe(400);
    }
    expect((await t.call('GET', `/api/replays/${id}`)).body.title).toBe('Best of');
  });

  it('deletes a replay (owner or admin) with its file; a deleted replay is 404 everywhere', async () => {
    const { id, name } = await recorded(await newRoom());
    const { body } = await playback(id);
    const foreign = await t.call('DELETE', `/api/replays/${id}`, { token: other.token });
    expect(foreign.status).toBe(403);
    expect(existsSync(join(dir, name))).toBe(true);
    expect((await t.call('DELETE', `/api/replays/${id}`, { token: owner.token })).status).toBe(204);
    expect(existsSync(join(dir, name))).toBe(false);
    const row = await t.database.db.selectFrom('recordings').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.deleted_at).not.toBeNull();
    expect(row.files).toBe('[]');
    for (const [method, url] of [
      ['GET', `/api/replays/${id}`],
      ['POST', `/api/replays/${id}/playback`],
      ['GET', `/api/replays/${id}/chat`],
      ['DELETE', `/api/replays/${id}`],
      ['GET', body.url as string],
    ] as const) {
      const res = await t.call(method, url, { token: owner.token });
      expect(res.status, `${method} ${url}`).toBe(404);
    }
    expect((await t.call('GET', '/api/replays')).body.replays.map((r: { id: string }) => r.id)).not.toContain(id);
    // An admin deletes someone else's.
    const second = await recorded(await newRoom());
    expect((await t.call('DELETE', `/api/replays/${second.id}`, { token: admin.token })).status).toBe(204);
  });

  it('plays a local file through a signed URL, with HTTP ranges', async () => {
    const { id, name } = await recorded(await newRoom());
    const res = await playback(id);
    expect(res.status).toBe(200);
    expect(res.body.contentType).toBe('video/webm');
    expect(res.body.url).toMatch(new RegExp(`^/api/replays/${id}/media/${name.replace('.', '\\.')}\\?token=`));
    const expires = new Date(res.body.expiresAt).getTime();
    expect(expires - Date.now()).toBeGreaterThan(590_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(600_000);
    const url = res.body.url as string;

    const whole = await media(url);
    expect(whole.status).toBe(200);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    expect(whole.headers['content-type']).toBe('video/webm');
    expect(Number(whole.headers['content-length'])).toBe(FILE_BYTES);
    expect(Buffer.from(whole.body, 'binary').length).toBeGreaterThan(0);

    const raw = async (range: string) =>
      t.platform.app.inject({ method: 'GET', url, headers: { range } }).then((r) => ({
        status: r.statusCode,
        headers: r.headers,
        body: r.rawPayload,
      }));
    const first = await raw('bytes=0-');
    expect(first.status).toBe(206);
    expect(first.headers['content-range']).toBe(`bytes 0-${FILE_BYTES - 1}/${FILE_BYTES}`);
    expect(first.body.equals(content)).toBe(true);
    const tail = await raw('bytes=-500');
    expect(tail.status).toBe(206);
    expect(tail.headers['content-range']).toBe(`bytes ${FILE_BYTES - 500}-${FILE_BYTES - 1}/${FILE_BYTES}`);
    expect(tail.body.equals(content.subarray(FILE_BYTES - 500))).toBe(true);
    const middle = await raw('bytes=100-199');
    expect(middle.status).toBe(206);
    expect(middle.headers['content-length']).toBe('100');
    expect(middle.body.equals(content.subarray(100, 200))).toBe(true);
    const head = await t.platform.app.inject({ method: 'HEAD', url });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe(String(FILE_BYTES));
    expect(head.rawPayload.length).toBe(0);
    const beyond = await raw('bytes=999999999-');
    expect(beyond.status).toBe(416);
    expect(beyond.headers['content-range']).toBe(`bytes */${FILE_BYTES}`);
  });

  it('refuses forged, expired and misplaced media tokens, and names that are not the recording’s files', async () => {
    const { id, name } = await recorded(await newRoom());
    const sibling = await recorded(await newRoom());
    const url = (await playback(id)).body.url as string;
    const token = new URL(url, 'http://x').searchParams.get('token')!;
    const [exp, mac] = token.split('.') as [string, string];
    const forged = [
      `/api/replays/${id}/media/${name}`,
      `/api/replays/${id}/media/${name}?token=`,
      `/api/replays/${id}/media/${name}?token=${exp}.${'A'.repeat(43)}`,
      `/api/replays/${id}/media/${name}?token=${Number(exp) + 3600}.${mac}`,
      `/api/replays/${id}/media/${name}?token=${Math.floor(Date.now() / 1000) - 1}.${mac}`,
      // Another recording's file, or another file of this one, with this token.
      `/api/replays/${sibling.id}/media/${sibling.name}?token=${token}`,
      `/api/replays/${id}/media/secret.txt?token=${token}`,
    ];
    writeFileSync(join(dir, 'secret.txt'), 'not a replay');
    for (const u of forged) {
      const res = await media(u);
      expect(res.status, u).toBe(403);
      expect(res.body.error.code, u).toBe('invalid_token');
    }
    for (const bad of [
      '..%2f..%2fetc%2fpasswd',
      '..%2fsecret.txt',
      '%2e%2e%2fsecret.txt',
      '..',
      '.',
      '%2fetc%2fpasswd',
    ]) {
      const res = await media(`/api/replays/${id}/media/${bad}?token=${token}`);
      expect(res.status, bad).toBe(404);
    }
    expect((await media(`/api/replays/${id}/..%2f..%2fetc%2fpasswd?token=${token}`)).status).toBe(404);
    // NUL is refused everywhere before any route looks at it (docs/protocol.md, Conventions).
    expect((await media(`/api/replays/${id}/media/${id}.webm%00.txt?token=${token}`)).status).toBe(400);
  });

  it('never reads through a symlink or a key that leaves the recordings directory', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'ff-outside-'));
    try {
      writeFileSync(join(outside, 'passwd'), 'root:x:0:0');
      const linked = await recorded(await newRoom());
      const url = (await playback(linked.id)).body.url as string;
      rmSync(join(dir, linked.name));
      symlinkSync(join(outside, 'passwd'), join(dir, linked.name));
      expect((await media(url)).status).toBe(404);
      expect((await playback(linked.id)).status).toBe(404);
      const escaping = await recorded(await newRoom());
      await t.database.db
        .updateTable('recordings')
        .set({
          files: JSON.stringify([
            { name: escaping.name, storage: 'local', key: '../../etc/passwd', bytes: 10, contentType: 'video/webm' },
          ]),
        })
        .where('id', '=', escaping.id)
        .execute();
      expect((await playback(escaping.id)).status).toBe(404);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('keeps a paid broadcast’s replay for ticket holders (402 without), its owner and admins', async () => {
    const room = await newRoom({ ticketPrice: 50 });
    const { id } = await recorded(room);
    const fan = await t.signUp('Fan');
    const refused = await playback(id, fan.token);
    expect(refused.status).toBe(402);
    expect(refused.body.error).toMatchObject({ code: 'ticket_required', details: { ticketPrice: 50 } });
    expect((await playback(id)).status).toBe(402);
    const chat = await t.call('GET', `/api/replays/${id}/chat`, { token: fan.token });
    expect(chat.status).toBe(402);
    expect(chat.body.error.code).toBe('ticket_required');
    // The replay itself (its title, price) is public: the page shows the ticket gate with it.
    expect((await t.call('GET', `/api/replays/${id}`, { token: fan.token })).body.ticketPrice).toBe(50);

    expect((await playback(id, owner.token)).status).toBe(200);
    expect((await playback(id, admin.token)).status).toBe(200);
    await buyTokens(fan.token);
    const ticket = await t.call('POST', `/api/rooms/${room}/tickets`, {
      token: fan.token,
      headers: { 'idempotency-key': randomUUID() },
      body: { expectedPrice: 50 },
    });
    expect(ticket.status).toBe(201);
    const allowed = await playback(id, fan.token);
    expect(allowed.status).toBe(200);
    expect((await media(allowed.body.url)).status).toBe(200);
    expect((await t.call('GET', `/api/replays/${id}/chat`, { token: fan.token })).status).toBe(200);
  });

  it('sells the ticket of an ended paid broadcast while it has a ready replay, and not otherwise', async () => {
    const fan = await t.signUp('Late fan');
    await buyTokens(fan.token);
    const buy = (room: string) =>
      t.call('POST', `/api/rooms/${room}/tickets`, {
        token: fan.token,
        headers: { 'idempotency-key': randomUUID() },
        body: { expectedPrice: 30 },
      });
    const end = async (room: string) =>
      expect((await t.call('POST', `/api/rooms/${room}/end`, { token: owner.token })).status).toBe(200);

    const withoutReplay = await newRoom({ ticketPrice: 30 });
    await recorded(withoutReplay, { status: 'recording' });
    await end(withoutReplay);
    const refused = await buy(withoutReplay);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('room_ended');
    const hidden = await newRoom({ ticketPrice: 30 });
    await recorded(hidden, { hidden: true });
    await end(hidden);
    expect((await buy(hidden)).status).toBe(409);

    const withReplay = await newRoom({ ticketPrice: 30 });
    const { id } = await recorded(withReplay);
    await end(withReplay);
    expect((await playback(id, fan.token)).status).toBe(402);
    expect((await buy(withReplay)).status).toBe(201);
    expect((await playback(id, fan.token)).status).toBe(200);
  });

  it('serves a file whose report names a content type that is not audio or video as plain bytes', async () => {
    const { id, name } = await recorded(await newRoom());
    await t.database.db
      .updateTable('recordings')
      .set({
        files: JSON.stringify([{ name, storage: 'local', key: name, bytes: FILE_BYTES, contentType: 'text/html' }]),
      })
      .where('id', '=', id)
      .execute();
    const res = await playback(id);
    expect(res.body.contentType).toBe('application/octet-stream');
    const got = await media(res.body.url);
    expect(got.headers['content-type']).toBe('application/octet-stream');
    expect(got.headers['x-content-type-options']).toBe('nosniff');
  });

  it('plays only ready replays', async () => {
    const { id } = await recorded(await newRoom(), { status: 'recording' });
    expect((await t.call('GET', `/api/replays/${id}`)).body.status).toBe('recording');
    const res = await playback(id);
    expect(res.status).toBe(409);
  });

  it('replays the broadcast’s chat with offsets from the start, in the reader’s language', async () => {
    const room = await newRoom();
    const startedAt = new Date(Date.now() - 120_000);
    const { id } = await recorded(room, { startedAt });
    const at = (ms: number) => new Date(startedAt.getTime() + ms);
    const say = async (text: string, sentAt: Date, language = 'en') =>
      t.database.db
        .insertInto('chat_messages')
        .values({
          room_id: room,
          author_id: other.id,
          author_name: 'Someone',
          author_moderator: false,
          client_id: randomUUID(),
          language,
          text,
          text_hash: textHash(text),
          created_at: sentAt,
          deleted_at: null,
          deleted_by: null,
        })
        .execute();
    await say('before the broadcast', at(-5000));
    await say('hello', at(1000));
    await say('later', at(20_000));
    await say('after the broadcast', at(31_000));
    await t.database.db
      .insertInto('translation_cache')
      .values({ source: 'en', target: 'es', text_hash: textHash('hello'), translated: 'hola', engine: 'test' })
      .execute();

    const res = await t.call('GET', `/api/replays/${id}/chat?lang=es`);
    expect(res.status).toBe(200);
    expect(res.body.messages.map((m: { text: string; offsetMs: number }) => [m.text, m.offsetMs])).toEqual([
      ['hello', 1000],
      ['later', 20_000],
    ]);
    expect(res.body.messages[0].translation).toEqual({ language: 'es', status: 'ok', text: 'hola' });
    expect(res.body.messages[0]).toMatchObject({ roomId: room, author: { displayName: 'Someone' }, reactions: [] });
    const english = await t.call('GET', `/api/replays/${id}/chat?lang=en`, { token: owner.token });
    expect(english.body.messages[0].translation).toBeUndefined();
    expect((await t.call('GET', `/api/replays/${id}/chat?lang=not a language`)).status).toBe(400);
  });
});
