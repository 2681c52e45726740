import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import type { TestPlatform } from '../../test-support.js';
import { connectPeer, type TestPeer } from '../signaling/test-signaling.js';
import { csvCell } from './audit-log.js';
import { createRoom, requestPayout, startGovernancePlatform, streamerWithEarnings } from './test-governance.js';

describe('csvCell', () => {
  it('quotes separators and defuses spreadsheet formulas', () => {
    expect(csvCell(null)).toBe('');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell('-1+2')).toBe("'-1+2");
  });
});

describe.each(testDatabases())('the audit trail ($name)', (db) => {
  let t: TestPlatform;
  let url: string;
  let admin: { token: string; id: string };
  const sockets: TestPeer[] = [];

  beforeAll(async () => {
    t = await startGovernancePlatform(db);
    url = await t.platform.listen();
    admin = await t.signUpAs('Auditor', 'admin');
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t?.close();
  });

  const join = async (token: string, roomId: string) => {
    const peer = await connectPeer(url, token);
    sockets.push(peer);
    peer.emit('join', { roomId });
    await peer.next('joined');
    return peer;
  };

  it('records room moderation with who, their role, the target and the reason', async () => {
    const owner = await t.signUp('Host', { role: 'streamer' });
    const troll = await t.signUp('Troll');
    const roomId = await createRoom(t, owner.token);
    const host = await join(owner.token, roomId);
    const trollPeer = await join(troll.token, roomId);
    const sent = await trollPeer.emitWithAck('chat:send', { roomId, text: 'buy my stuff', clientId: 'c1' });
    expect(sent.ok).toBe(true);
    expect(await host.emitWithAck('chat:delete', { roomId, messageId: sent.message.id })).toEqual({ ok: true });
    expect(
      await host.emitWithAck('chat:moderate', {
        roomId,
        action: 'mute',
        userId: troll.id,
        durationSeconds: 60,
        reason: 'spam',
      }),
    ).toEqual({ ok: true });
    expect(await host.emitWithAck('chat:settings', { roomId, slowModeSeconds: 5 })).toMatchObject({ ok: true });

    const res = await t.call('GET', `/api/admin/audit?roomId=${roomId}`, { token: admin.token });
    expect(res.status).toBe(200);
    const events = res.body.events as { action: string }[];
    expect(events.map((e) => e.action)).toEqual(['chat.settings', 'chat.mute', 'chat.delete']);
    expect(res.body.events[1]).toMatchObject({
      actorId: owner.id,
      actorName: 'Host',
      actorRole: 'owner',
      targetType: 'user',
      targetId: troll.id,
      roomId,
      reason: 'spam',
      requestId: null,
    });
    expect(res.body.events[2]).toMatchObject({
      targetType: 'message',
      targetId: sent.message.id,
      details: { text: 'buy my stuff', userId: troll.id },
    });
  });

  it('records payout decisions with the admin, the note and the request id', async () => {
    const earner = await streamerWithEarnings(t, 40);
    const payoutId = await requestPayout(t, earner.token, 40);
    const decided = await t.call('POST', `/api/admin/payouts/${payoutId}/decision`, {
      token: admin.token,
      body: { decision: 'reject', note: 'verify your identity' },
    });
    expect(decided.status).toBe(200);
    const res = await t.call('GET', `/api/admin/audit?targetId=${payoutId}`, { token: admin.token });
    expect(res.body.events).toEqual([
      expect.objectContaining({
        action: 'payout.reject',
        actorId: admin.id,
        actorRole: 'admin',
        targetType: 'payout',
        reason: 'verify your identity',
        requestId: decided.headers['x-request-id'],
        details: expect.objectContaining({ userId: earner.id, amount: 40 }),
      }),
    ]);
  });

  it('filters by actor, action and time, pages with a cursor and exports CSV', async () => {
    const all = await t.call('GET', `/api/admin/audit?actorId=${admin.id}`, { token: admin.token });
    expect(all.body.events.every((e: { actorId: string }) => e.actorId === admin.id)).toBe(true);
    const byAction = await t.call('GET', '/api/admin/audit?action=chat.mute', { token: admin.token });
    expect(byAction.body.events.map((e: { action: string }) => e.action)).toEqual(['chat.mute']);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await t.call('GET', `/api/admin/audit?from=${future}`, { token: admin.token })).body.events).toEqual([]);
    const page1 = await t.call('GET', '/api/admin/audit?limit=2', { token: admin.token });
    expect(page1.body.events).toHaveLength(2);
    const page2 = await t.call('GET', `/api/admin/audit?limit=2&cursor=${page1.body.nextCursor}`, {
      token: admin.token,
    });
    expect(Number(page2.body.events[0].id)).toBeLessThan(Number(page1.body.events[1].id));
    expect((await t.call('GET', '/api/admin/audit?cursor=abc', { token: admin.token })).status).toBe(400);

    const csv = await t.call('GET', '/api/admin/audit/export?action=chat.delete', { token: admin.token });
    expect(csv.status).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = String(csv.body).trim().split('\r\n');
    expect(lines[0]).toBe(
      'id,at,actor_id,actor_name,actor_role,action,target_type,target_id,room_id,reason,request_id,details',
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(',chat.delete,message,');
  });

  it('cannot be altered: the database refuses UPDATE, DELETE and TRUNCATE, and no endpoint writes it', async () => {
    const { db: k } = t.database;
    await expect(sql`update audit_events set reason = 'nothing happened'`.execute(k)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_events`.execute(k)).rejects.toThrow(/append-only/);
    await expect(sql`truncate audit_events`.execute(k)).rejects.toThrow(/append-only/);
    const before = (await t.call('GET', '/api/admin/audit', { token: admin.token })).body.events;
    const id = before[0].id;
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      for (const path of ['/api/admin/audit', `/api/admin/audit/${id}`]) {
        const res = await t.call(method, path, { token: admin.token, body: { reason: 'x' } });
        expect(res.status, `${method} ${path}`).toBe(404);
      }
    }
    expect((await t.call('GET', '/api/admin/audit', { token: admin.token })).body.events).toEqual(before);
  });

  it('is for admins only', async () => {
    const moderator = await t.signUpAs('Mod', 'moderator');
    const viewer = await t.signUp('Nosy');
    for (const token of [moderator.token, viewer.token]) {
      expect((await t.call('GET', '/api/admin/audit', { token })).status).toBe(403);
      expect((await t.call('GET', '/api/admin/audit/export', { token })).status).toBe(403);
    }
    expect((await t.call('GET', '/api/admin/audit')).status).toBe(401);
  });
});
