import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { connectPeer, type TestPeer } from '../signaling/test-signaling.js';

const RATE = 12;

describe.each(testDatabases())('chat over Socket.IO ($name)', (db) => {
  let t: TestPlatform;
  let url: string;
  const open: TestPeer[] = [];
  let owner: { token: string; id: string };
  let ana: { token: string; id: string };
  let ben: { token: string; id: string };
  let mod: { token: string; id: string };

  beforeAll(async () => {
    t = await startTestPlatform(db, {
      port: 0,
      chatMessagesPer10s: RATE,
      chatMaxLength: 50,
      paymentsDevProvider: 'true',
    });
    url = await t.platform.listen();
    owner = await t.signUp('Olivia', { role: 'streamer', language: 'en' });
    ana = await t.signUp('Ana', { language: 'es' });
    ben = await t.signUp('Ben', { language: 'en' });
    mod = await t.signUpAs('Mo', 'moderator');
  });
  afterEach(() => {
    for (const p of open.splice(0)) p.close();
  });
  afterAll(async () => {
    await t.close();
    expect(t.platform.services.realtime.size).toBe(0);
  });

  const peer = async (token: string) => {
    const p = await connectPeer(url, token);
    open.push(p);
    return p;
  };
  const liveRoom = async () =>
    (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title: 'Chat' } })).body
      .id as string;
  const enter = async (token: string, roomId: string, language?: string) => {
    const p = await peer(token);
    p.emit('join', language ? { roomId, language } : { roomId });
    await p.next('joined');
    const state = await p.next('chat:state');
    return { p, state };
  };
  const send = (p: TestPeer, roomId: string, text: string, clientId: string = randomUUID()) =>
    p.emitWithAck('chat:send', { roomId, text, clientId });

  it('stores a message before acknowledging it, sends the original to everybody, and never stores a retry twice', async () => {
    const roomId = await liveRoom();
    const { p: o, state } = await enter(owner.token, roomId);
    expect(state).toMatchObject({
      roomId,
      language: 'en',
      engine: 'none',
      translationAvailable: false,
      canModerate: true,
      canSend: true,
      slowModeSeconds: 0,
      maxLength: 50,
      blockedWords: [],
    });
    const { p: a, state: anaState } = await enter(ana.token, roomId);
    expect(anaState).toMatchObject({ language: 'es', canModerate: false, canSend: true });
    expect(anaState.blockedWords).toBeUndefined();

    const clientId = 'retry-1';
    const ack = await send(a, roomId, '  Hola a todos  ', clientId);
    expect(ack).toMatchObject({
      ok: true,
      duplicate: false,
      message: { roomId, clientId, language: 'es', text: 'Hola a todos', author: { userId: ana.id, moderator: false } },
    });
    const rows = await t.database.db.selectFrom('chat_messages').selectAll().where('room_id', '=', roomId).execute();
    expect(rows).toHaveLength(1);
    expect(await o.next('chat:message')).toEqual(ack.message);
    expect(await a.next('chat:message')).toEqual(ack.message);
    // No engine: chat:state said so; nothing more is sent per message.

    const retry = await send(a, roomId, 'Hola a todos', clientId);
    expect(retry).toEqual({ ok: true, duplicate: true, message: ack.message });
    expect(
      await t.database.db.selectFrom('chat_messages').select('id').where('room_id', '=', roomId).execute(),
    ).toHaveLength(1);
    // Only one broadcast: a round trip on the owner's connection shows nothing else came.
    await send(o, roomId, 'sync');
    expect((await o.next('chat:message')).text).toBe('sync');
    expect(o.pending('chat:message')).toEqual([]);
    expect(o.pending('chat:translation')).toEqual([]);
  });

  it('tells a reloaded page (a resumed slot) the chat state again', async () => {
    const roomId = await liveRoom();
    const { p: first } = await enter(ben.token, roomId);
    const gone = new Promise((resolve) => first.socket.once('disconnect', resolve));
    first.socket.disconnect();
    await gone;
    const again = await peer(ben.token);
    again.emit('join', { roomId });
    expect(await again.next('joined')).toMatchObject({ resumed: true });
    expect(await again.next('chat:state')).toMatchObject({ roomId, canSend: true, maxLength: 50 });
  });

  it('tells the audience when a live room ends; its chat is closed then', async () => {
    const roomId = await liveRoom();
    const { p: viewer } = await enter(ben.token, roomId);
    const ended = await t.call('POST', `/api/rooms/${roomId}/end`, { token: owner.token });
    expect(ended.status).toBe(200);
    expect(await viewer.next('room-state')).toMatchObject({ roomId, status: 'ended', peers: [] });
    expect(await send(viewer, roomId, 'anyone?')).toMatchObject({ ok: false, error: { code: 'not_joined' } });
  });

  it('refuses bad input with coded errors and loses nothing', async () => {
    const roomId = await liveRoom();
    const other = await liveRoom();
    const { p: a } = await enter(ana.token, roomId);
    expect(await send(a, roomId, '   ')).toMatchObject({ ok: false, error: { code: 'validation_failed' } });
    expect(await send(a, roomId, 'x'.repeat(51))).toMatchObject({ ok: false, error: { code: 'payload_too_large' } });
    expect(await a.emitWithAck('chat:send', { roomId, text: 'no client id' })).toMatchObject({
      ok: false,
      error: { code: 'validation_failed' },
    });
    expect(await a.emitWithAck('chat:send', { roomId, text: 'hi', clientId: 'bad id!' })).toMatchObject({
      ok: false,
      error: { code: 'validation_failed' },
    });
    expect(await send(a, other, 'wrong room')).toMatchObject({ ok: false, error: { code: 'not_joined' } });
    const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken as string;
    const { p: g, state } = await enter(guest, roomId);
    expect(state).toMatchObject({ canSend: false });
    expect(await send(g, roomId, 'guest here')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // 50 characters exactly is fine (characters, not bytes: ñ counts once).
    expect(await send(a, roomId, 'ñ'.repeat(50))).toMatchObject({ ok: true });
    expect(
      await t.database.db.selectFrom('chat_messages').select('id').where('room_id', '=', roomId).execute(),
    ).toHaveLength(1);
  });

  it('limits how fast one user sends, over all their connections', async () => {
    const roomId = await liveRoom();
    const fast = await t.signUp('Fast');
    const { p: a1 } = await enter(fast.token, roomId);
    const { p: a2 } = await enter(fast.token, roomId);
    const answers = [];
    for (let i = 0; i < RATE + 1; i++) answers.push(await send(i % 2 ? a1 : a2, roomId, `m${i}`));
    expect(answers.slice(0, RATE).every((x) => x.ok)).toBe(true);
    expect(answers[RATE]).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(answers[RATE].error.retryAfterSeconds).toBeGreaterThan(0);
  });

  it('pages history back 100 at a time, with reactions and without deleted messages', async () => {
    const roomId = await liveRoom();
    const { p: o } = await enter(owner.token, roomId);
    // The streamer is not rate limited: 105 messages straight.
    const ids: string[] = [];
    for (let i = 0; i < 105; i++) ids.push((await send(o, roomId, `message ${i}`)).message.id);
    const { p: a } = await enter(ana.token, roomId);
    expect(await a.emitWithAck('chat:react', { roomId, messageId: ids[104], emoji: '🔥' })).toEqual({
      ok: true,
      count: 1,
    });
    expect(await o.next('chat:react')).toEqual({
      roomId,
      messageId: ids[104],
      emoji: '🔥',
      userId: ana.id,
      on: true,
      count: 1,
    });
    expect(await o.emitWithAck('chat:react', { roomId, messageId: ids[104], emoji: '🔥' })).toEqual({
      ok: true,
      count: 2,
    });
    expect(await a.emitWithAck('chat:react', { roomId, messageId: ids[104], emoji: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'validation_failed' },
    });
    expect(await o.emitWithAck('chat:delete', { roomId, messageId: ids[103] })).toEqual({ ok: true });

    const page1 = await a.emitWithAck('chat:history', { roomId });
    expect(page1.ok).toBe(true);
    expect(page1.hasMore).toBe(true);
    expect(page1.messages).toHaveLength(100);
    expect(page1.messages.at(-1)).toMatchObject({ id: ids[104], reactions: [{ emoji: '🔥', count: 2, mine: true }] });
    expect(page1.messages.map((m: { id: string }) => m.id)).not.toContain(ids[103]);
    expect(page1.messages[0].id).toBe(ids[4]);
    const page2 = await a.emitWithAck('chat:history', { roomId, before: page1.messages[0].id });
    expect(page2).toMatchObject({ ok: true, hasMore: false });
    expect(page2.messages.map((m: { text: string }) => m.text)).toEqual([0, 1, 2, 3].map((i) => `message ${i}`));
    // Taking a reaction back.
    expect(await a.emitWithAck('chat:react', { roomId, messageId: ids[104], emoji: '🔥', on: false })).toEqual({
      ok: true,
      count: 1,
    });
    const mine = await o.emitWithAck('chat:history', { roomId });
    expect(mine.messages.at(-1).reactions).toEqual([{ emoji: '🔥', count: 1, mine: true }]);
  });

  it('lets the streamer and moderators delete, mute, ban and set slow mode and blocked words, each recorded', async () => {
    const roomId = await liveRoom();
    const { p: o } = await enter(owner.token, roomId);
    const { p: a } = await enter(ana.token, roomId);
    const { p: m } = await enter(mod.token, roomId);

    // A viewer deletes only her own messages.
    const hers = (await send(a, roomId, 'mía')).message;
    const his = (await send(o, roomId, 'mine')).message;
    expect(await a.emitWithAck('chat:delete', { roomId, messageId: his.id })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(await m.emitWithAck('chat:delete', { roomId, messageId: hers.id })).toEqual({ ok: true });
    for (const p of [o, a, m]) {
      expect(await p.next('chat:delete')).toEqual({ roomId, messageId: hers.id, deletedBy: mod.id });
    }

    // Mute: refused with the time left; unmute lets her speak again.
    expect(
      await o.emitWithAck('chat:moderate', {
        roomId,
        action: 'mute',
        userId: ana.id,
        durationSeconds: 600,
        reason: 'spam',
      }),
    ).toEqual({ ok: true });
    expect(await a.next('chat:moderation')).toMatchObject({
      action: 'mute',
      userId: ana.id,
      by: owner.id,
      reason: 'spam',
    });
    const muted = await send(a, roomId, 'hola');
    expect(muted).toMatchObject({ ok: false, error: { code: 'muted' } });
    expect(muted.error.retryAfterSeconds).toBeGreaterThan(590);
    expect(
      await a.emitWithAck('chat:moderate', { roomId, action: 'mute', userId: ben.id, durationSeconds: 5 }),
    ).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(
      await m.emitWithAck('chat:moderate', { roomId, action: 'mute', userId: owner.id, durationSeconds: 5 }),
    ).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(await m.emitWithAck('chat:moderate', { roomId, action: 'unmute', userId: ana.id })).toEqual({ ok: true });
    expect(await send(a, roomId, 'hola otra vez')).toMatchObject({ ok: true });

    // Slow mode and blocked words: only moderators set them; readers learn slow mode, not the list.
    expect(await a.emitWithAck('chat:settings', { roomId, slowModeSeconds: 30 })).toMatchObject({
      ok: false,
      error: { code: 'forbidden' },
    });
    expect(
      await o.emitWithAck('chat:settings', { roomId, slowModeSeconds: 30, blockedWords: ['Caca', 'caca', 'bad word'] }),
    ).toEqual({
      ok: true,
      slowModeSeconds: 30,
      blockedWords: ['caca', 'bad word'],
    });
    expect(await a.next('chat:settings')).toEqual({ roomId, slowModeSeconds: 30 });
    const slow = await send(a, roomId, 'demasiado pronto');
    expect(slow).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    expect(slow.error.message).toContain('slow mode');
    expect(await o.emitWithAck('chat:settings', { roomId, slowModeSeconds: 0 })).toMatchObject({ ok: true });
    expect(await send(a, roomId, 'esto es CACA!')).toMatchObject({ ok: false, error: { code: 'message_blocked' } });
    expect(await send(a, roomId, 'a Bad  word? no: a bad word')).toMatchObject({
      ok: false,
      error: { code: 'message_blocked' },
    });
    expect(await send(a, roomId, 'cacao es rico')).toMatchObject({ ok: true });

    // Ban: out of the room now, no way back in, no media grant either.
    expect(await o.emitWithAck('chat:moderate', { roomId, action: 'ban', userId: ana.id })).toEqual({ ok: true });
    expect(await a.next('removed')).toMatchObject({ roomId, reason: 'moderation' });
    expect(await send(a, roomId, 'sigo aquí?')).toMatchObject({ ok: false, error: { code: 'not_joined' } });
    const again = await peer(ana.token);
    expect(await again.emitWithAck('join', { roomId })).toMatchObject({ ok: false, error: { code: 'banned' } });
    const grant = await t.call('POST', `/api/rooms/${roomId}/grants`, {
      token: ana.token,
      body: { role: 'subscribe' },
    });
    expect(grant.status).toBe(403);
    expect(grant.body.error.code).toBe('banned');
    expect(await m.emitWithAck('chat:moderate', { roomId, action: 'unban', userId: ana.id })).toEqual({ ok: true });
    expect(await again.emitWithAck('join', { roomId })).toEqual({ ok: true });

    const audit = await t.database.db
      .selectFrom('chat_moderation_actions')
      .select(['actor_id', 'action', 'target_user_id'])
      .where('room_id', '=', roomId)
      .orderBy('id')
      .execute();
    expect(audit).toEqual([
      { actor_id: mod.id, action: 'delete', target_user_id: ana.id },
      { actor_id: owner.id, action: 'mute', target_user_id: ana.id },
      { actor_id: mod.id, action: 'unmute', target_user_id: ana.id },
      { actor_id: owner.id, action: 'settings', target_user_id: null },
      { actor_id: owner.id, action: 'settings', target_user_id: null },
      { actor_id: owner.id, action: 'ban', target_user_id: ana.id },
      { actor_id: mod.id, action: 'unban', target_user_id: ana.id },
    ]);
  });

  it('shows a tip in the room’s chat', async () => {
    const roomId = await liveRoom();
    const { p: o } = await enter(owner.token, roomId);
    const packs = (await t.call('GET', '/api/wallet/packs')).body.packs as { id: string; priceCents: number }[];
    const pack = packs[0]!;
    const bought = await t.call('POST', '/api/wallet/purchases', {
      token: ben.token,
      headers: { 'idempotency-key': randomUUID() },
      body: { packId: pack.id, expectedPriceCents: pack.priceCents, provider: 'dev' },
    });
    expect(bought.status).toBe(201);
    const tip = await t.call('POST', `/api/rooms/${roomId}/tips`, {
      token: ben.token,
      headers: { 'idempotency-key': randomUUID() },
      body: { amount: 5, message: 'great show' },
    });
    expect(tip.status).toBe(201);
    expect(await o.next('chat:tip')).toMatchObject({
      roomId,
      from: { userId: ben.id, displayName: 'Ben' },
      amount: 5,
      message: 'great show',
    });
  });

  /** A new account holding the first token pack (100 tokens, dev provider). */
  const buyer = async (name: string) => {
    const user = await t.signUp(name);
    const packs = (await t.call('GET', '/api/wallet/packs')).body.packs as { id: string; priceCents: number }[];
    const bought = await t.call('POST', '/api/wallet/purchases', {
      token: user.token,
      headers: { 'idempotency-key': randomUUID() },
      body: { packId: packs[0]!.id, expectedPriceCents: packs[0]!.priceCents, provider: 'dev' },
    });
    expect(bought.status).toBe(201);
    return { ...user, tokens: bought.body.balance as number };
  };
  const tipInto = (roomId: string, token: string, amount: number, message?: string) =>
    t.call('POST', `/api/rooms/${roomId}/tips`, {
      token,
      headers: { 'idempotency-key': randomUUID() },
      body: message === undefined ? { amount } : { amount, message },
    });
  const balanceOf = async (token: string) => (await t.call('GET', '/api/wallet', { token })).body.balance as number;

  it('puts a tip’s message through the room’s chat rules before any money moves; a ban refuses every tip', async () => {
    const roomId = await liveRoom();
    const { p: o } = await enter(owner.token, roomId);
    const fan = await buyer('Tipper');
    const start = fan.tokens;
    expect(await o.emitWithAck('chat:settings', { roomId, blockedWords: ['scam'] })).toMatchObject({ ok: true });

    const blocked = await tipInto(roomId, fan.token, 5, 'this is a scam');
    expect(blocked.status).toBe(422);
    expect(blocked.body.error.code).toBe('message_blocked');
    const long = await tipInto(roomId, fan.token, 5, 'x'.repeat(51));
    expect(long.status).toBe(413);
    expect(long.body.error.code).toBe('payload_too_large');

    expect(
      await o.emitWithAck('chat:moderate', { roomId, action: 'mute', userId: fan.id, durationSeconds: 600 }),
    ).toMatchObject({ ok: true });
    const muted = await tipInto(roomId, fan.token, 5, 'let me speak');
    expect(muted.status).toBe(403);
    expect(muted.body.error.code).toBe('muted');
    // Muted, a tip without words still goes through.
    expect((await tipInto(roomId, fan.token, 5)).status).toBe(201);
    expect(await balanceOf(fan.token)).toBe(start - 5);

    expect(await o.emitWithAck('chat:moderate', { roomId, action: 'ban', userId: fan.id })).toMatchObject({ ok: true });
    for (const message of [undefined, 'sorry']) {
      const banned = await tipInto(roomId, fan.token, 5, message);
      expect(banned.status).toBe(403);
      expect(banned.body.error.code).toBe('banned');
    }
    expect(await balanceOf(fan.token)).toBe(start - 5);
    const tips = await t.database.db
      .selectFrom('ledger_transactions')
      .select('id')
      .where('kind', '=', 'tip')
      .where('room_id', '=', roomId)
      .execute();
    expect(tips).toHaveLength(1);
    expect(await o.next('chat:tip')).toMatchObject({ from: { userId: fan.id }, amount: 5 });
    expect(o.pending('chat:tip')).toEqual([]);
  });

  it('keeps a paid room’s chat (reading too) for ticket holders, its streamer and moderators', async () => {
    const roomId = (
      await t.call('POST', '/api/rooms', {
        token: owner.token,
        body: { kind: 'live', title: 'Paid chat', ticketPrice: 10 },
      })
    ).body.id as string;
    const { p: o } = await enter(owner.token, roomId);
    const first = (await send(o, roomId, 'welcome, ticket holders')).message;

    const fan = await buyer('No ticket yet');
    const without = await peer(fan.token);
    expect(await without.emitWithAck('join', { roomId })).toMatchObject({
      ok: false,
      error: { code: 'ticket_required' },
    });
    const guestToken = (await t.call('POST', '/api/auth/guest')).body.accessToken as string;
    const guest = await peer(guestToken);
    expect(await guest.emitWithAck('join', { roomId })).toMatchObject({
      ok: false,
      error: { code: 'ticket_required' },
    });

    const ticket = await t.call('POST', `/api/rooms/${roomId}/tickets`, {
      token: fan.token,
      headers: { 'idempotency-key': randomUUID() },
      body: { expectedPrice: 10 },
    });
    expect(ticket.status).toBe(201);
    const { p: f } = await enter(fan.token, roomId);
    expect((await f.emitWithAck('chat:history', { roomId })).messages.map((m: { id: string }) => m.id)).toEqual([
      first.id,
    ]);
    expect(await send(f, roomId, 'bought one')).toMatchObject({ ok: true });
    expect(await f.emitWithAck('chat:react', { roomId, messageId: first.id, emoji: '🔥' })).toEqual({
      ok: true,
      count: 1,
    });
    // A platform moderator needs no ticket.
    const { p: m } = await enter(mod.token, roomId);
    expect(await send(m, roomId, 'keep it friendly')).toMatchObject({ ok: true });

    // A free room made paid: who joined before may not send, react or read history without a ticket.
    const freeRoom = await liveRoom();
    const { p: host } = await enter(owner.token, freeRoom);
    const { p: b } = await enter(ben.token, freeRoom);
    const said = (await send(host, freeRoom, 'hello')).message;
    const patched = await t.call('PATCH', `/api/rooms/${freeRoom}`, { token: owner.token, body: { ticketPrice: 5 } });
    expect(patched.status).toBe(200);
    expect(await send(b, freeRoom, 'still here')).toMatchObject({ ok: false, error: { code: 'ticket_required' } });
    expect(await b.emitWithAck('chat:react', { roomId: freeRoom, messageId: said.id, emoji: '🔥' })).toMatchObject({
      ok: false,
      error: { code: 'ticket_required' },
    });
    expect(await b.emitWithAck('chat:history', { roomId: freeRoom })).toMatchObject({
      ok: false,
      error: { code: 'ticket_required' },
    });
  });
});

describe('chat batching in a busy room', () => {
  let t: TestPlatform;
  let url: string;
  const open: TestPeer[] = [];
  afterAll(async () => {
    for (const p of open) p.close();
    await t?.close();
  });

  it('sends the first message at once and what follows within the window as one chat:batch, in order, before a deletion', async () => {
    t = await startTestPlatform(testDatabases()[0]!, { port: 0, chatBatchMs: 1000 });
    url = await t.platform.listen();
    const owner = await t.signUp('Busy', { role: 'streamer' });
    const viewer = await t.signUp('Reader');
    const roomId = (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title: 'Busy' } }))
      .body.id as string;
    const connect = async (token: string) => {
      const p = await connectPeer(url, token);
      open.push(p);
      p.emit('join', { roomId });
      await p.next('chat:state');
      return p;
    };
    const o = await connect(owner.token);
    const v = await connect(viewer.token);
    const events: { name: string; body: any }[] = [];
    v.socket.onAny((name: string, body: unknown) => events.push({ name, body }));

    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await o.emitWithAck('chat:send', { roomId, text: `m${i}`, clientId: `b${i}` })).message.id);
    }
    expect(await o.emitWithAck('chat:delete', { roomId, messageId: ids[4] })).toEqual({ ok: true });
    await v.next('chat:delete');
    const received = events.flatMap((e) =>
      e.name === 'chat:message'
        ? [e.body.id]
        : e.name === 'chat:batch'
          ? e.body.messages.map((m: { id: string }) => m.id)
          : e.name === 'chat:delete'
            ? [`deleted ${e.body.messageId}`]
            : [],
    );
    expect(received).toEqual([...ids, `deleted ${ids[4]}`]);
    expect(events[0]?.name).toBe('chat:message');
    // Fewer frames than messages: the four after the first came together.
    expect(events.filter((e) => e.name === 'chat:batch').length).toBeGreaterThanOrEqual(1);
    expect(events.filter((e) => e.name !== 'chat:delete').length).toBeLessThan(5);
  });
});
