import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import type { TestPlatform } from '../../test-support.js';
import { connectPeer, type TestPeer } from '../signaling/test-signaling.js';
import { createRoom, startGovernancePlatform } from './test-governance.js';

describe.each(testDatabases())('reports ($name)', (db) => {
  let t: TestPlatform;
  let url: string;
  let moderator: { token: string; id: string };
  let otherModerator: { token: string; id: string };
  let owner: { token: string; id: string };
  let roomId: string;
  const sockets: TestPeer[] = [];

  beforeAll(async () => {
    t = await startGovernancePlatform(db, { reportsPerHour: 5 });
    url = await t.platform.listen();
    moderator = await t.signUpAs('Queue Mod', 'moderator');
    otherModerator = await t.signUpAs('Other Mod', 'moderator');
    owner = await t.signUp('Host', { role: 'streamer' });
    roomId = await createRoom(t, owner.token);
  }, 60_000);
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t?.close();
  });

  const say = async (token: string, text: string) => {
    const peer = await connectPeer(url, token);
    sockets.push(peer);
    peer.emit('join', { roomId });
    await peer.next('joined');
    const sent = await peer.emitWithAck('chat:send', {
      roomId,
      text,
      clientId: `c${Math.random().toString(36).slice(2)}`,
    });
    return sent.message.id as string;
  };
  const report = (token: string, body: unknown) => t.call('POST', '/api/reports', { token, body });

  it('a viewer reports a message; a moderator claims it and deletes it; the reporter sees it handled', async () => {
    const troll = await t.signUp('Troll');
    const viewer = await t.signUp('Viewer');
    const messageId = await say(troll.token, 'you are all idiots');
    const filed = await report(viewer.token, {
      target: { type: 'message', roomId, messageId },
      reason: 'harassment',
      note: 'insults everyone',
    });
    expect(filed.status).toBe(201);
    expect(filed.body).toMatchObject({ status: 'open', reason: 'harassment', action: null });
    expect(filed.body).not.toHaveProperty('reporterId');
    // Reporting it again is the same report.
    const again = await report(viewer.token, { target: { type: 'message', roomId, messageId }, reason: 'spam' });
    expect(again.body.id).toBe(filed.body.id);

    const queue = await t.call('GET', '/api/admin/reports', { token: moderator.token });
    const queued = queue.body.reports.find((r: { id: string }) => r.id === filed.body.id);
    expect(queued).toMatchObject({
      reporterId: viewer.id,
      subjectUserId: troll.id,
      messageText: 'you are all idiots',
      status: 'open',
    });
    const claimed = await t.call('POST', `/api/admin/reports/${filed.body.id}/claim`, { token: moderator.token });
    expect(claimed.body).toMatchObject({ status: 'claimed', claimedBy: moderator.id });
    // Someone else's claim is theirs.
    expect(
      (await t.call('POST', `/api/admin/reports/${filed.body.id}/claim`, { token: otherModerator.token })).status,
    ).toBe(409);
    const stolen = await t.call('POST', `/api/admin/reports/${filed.body.id}/resolve`, {
      token: otherModerator.token,
      body: { action: 'dismiss' },
    });
    expect(stolen.status).toBe(409);

    const resolved = await t.call('POST', `/api/admin/reports/${filed.body.id}/resolve`, {
      token: moderator.token,
      body: { action: 'delete_message', note: 'abusive' },
    });
    expect(resolved.status).toBe(200);
    expect(resolved.body).toMatchObject({ status: 'resolved', action: 'delete_message', resolvedBy: moderator.id });
    const row = await t.database.db
      .selectFrom('chat_messages')
      .select(['deleted_at', 'deleted_by'])
      .where('id', '=', Number(messageId))
      .executeTakeFirstOrThrow();
    expect(row.deleted_by).toBe(moderator.id);
    expect(
      (
        await t.call('POST', `/api/admin/reports/${filed.body.id}/resolve`, {
          token: moderator.token,
          body: { action: 'dismiss' },
        })
      ).status,
    ).toBe(409);

    const mine = await t.call('GET', '/api/reports', { token: viewer.token });
    expect(mine.body.reports[0]).toMatchObject({ id: filed.body.id, status: 'resolved', action: 'delete_message' });
    const admin = await t.signUpAs('Report Admin', 'admin');
    const audit = await t.call('GET', `/api/admin/audit?actorId=${moderator.id}`, { token: admin.token });
    expect(audit.body.events.map((e: { action: string }) => e.action)).toEqual([
      'report.resolve',
      'chat.delete',
      'report.claim',
    ]);
    expect(audit.body.events[1].requestId).toBe(resolved.headers['x-request-id']);
    // The report shows on the troll's account page.
    const detail = await t.call('GET', `/api/admin/users/${troll.id}`, { token: moderator.token });
    expect(detail.body.reports.map((r: { id: string }) => r.id)).toEqual([filed.body.id]);
  });

  it('resolves with a room ban, a mute or a suspension', async () => {
    const reporter = await t.signUp('Reporter');
    const banned = await t.signUp('To Ban');
    const muted = await t.signUp('To Mute');
    const suspended = await t.signUp('To Suspend');
    const resolveWith = async (target: unknown, body: Record<string, unknown>) => {
      const filed = await report(reporter.token, { target, reason: 'spam' });
      expect(filed.status).toBe(201);
      const res = await t.call('POST', `/api/admin/reports/${filed.body.id}/resolve`, { token: moderator.token, body });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
    };
    await resolveWith(
      { type: 'message', roomId, messageId: await say(banned.token, 'buy followers') },
      { action: 'ban' },
    );
    await resolveWith(
      { type: 'message', roomId, messageId: await say(muted.token, 'buy likes') },
      {
        action: 'mute',
        durationSeconds: 120,
      },
    );
    await resolveWith({ type: 'user', userId: suspended.id }, { action: 'suspend', note: 'ban evasion' });
    const restrictions = await t.database.db
      .selectFrom('chat_restrictions')
      .select(['user_id', 'kind'])
      .where('room_id', '=', roomId)
      .execute();
    expect(restrictions).toEqual(
      expect.arrayContaining([
        { user_id: banned.id, kind: 'ban' },
        { user_id: muted.id, kind: 'mute' },
      ]),
    );
    const login = await t.call('POST', '/api/auth/login', {
      body: { email: suspended.email, password: 'correct horse battery' },
    });
    expect(login.body.error).toMatchObject({ code: 'suspended', details: { reason: 'ban evasion' } });
    // A user report has no room to mute or ban in.
    const filed = await report(reporter.token, { target: { type: 'user', userId: muted.id }, reason: 'other' });
    const wrong = await t.call('POST', `/api/admin/reports/${filed.body.id}/resolve`, {
      token: moderator.token,
      body: { action: 'ban' },
    });
    expect(wrong.status).toBe(400);
    // A moderator's suspension stops at staff, also through a report.
    const aboutMod = await report(reporter.token, {
      target: { type: 'user', userId: otherModerator.id },
      reason: 'other',
    });
    const refused = await t.call('POST', `/api/admin/reports/${aboutMod.body.id}/resolve`, {
      token: moderator.token,
      body: { action: 'suspend' },
    });
    expect(refused.status).toBe(403);
  });

  it('refuses bad input: guests, yourself, unknown targets, unknown reasons, long notes', async () => {
    const user = await t.signUp('Careful');
    const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken as string;
    expect((await report(guest, { target: { type: 'user', userId: user.id }, reason: 'spam' })).status).toBe(403);
    expect((await report(user.token, { target: { type: 'user', userId: user.id }, reason: 'spam' })).status).toBe(400);
    expect((await report(user.token, { target: { type: 'user', userId: 'nobody' }, reason: 'spam' })).status).toBe(404);
    expect(
      (await report(user.token, { target: { type: 'message', roomId, messageId: '999999' }, reason: 'spam' })).status,
    ).toBe(404);
    expect((await report(user.token, { target: { type: 'broadcast', roomId }, reason: 'because' })).status).toBe(400);
    const long = await report(user.token, {
      target: { type: 'broadcast', roomId },
      reason: 'other',
      note: 'x'.repeat(1001),
    });
    expect(long.status).toBe(400);
    expect(
      (await report(user.token, { target: { type: 'broadcast', roomId }, reason: 'other', extra: 1 })).status,
    ).toBe(400);
    expect((await t.call('GET', '/api/admin/reports', { token: user.token })).status).toBe(403);
  });

  it('limits a flood: a parallel burst files at most REPORTS_PER_HOUR reports', async () => {
    const flooder = await t.signUp('Flooder');
    const targets = await Promise.all(Array.from({ length: 12 }, (_, i) => t.signUp(`Target ${i}`)));
    const answers = await Promise.all(
      targets.map((target) => report(flooder.token, { target: { type: 'user', userId: target.id }, reason: 'spam' })),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
    expect(answers.find((a) => a.status === 429)!.body.error.code).toBe('rate_limited');
    const stored = await t.database.db
      .selectFrom('reports')
      .select('id')
      .where('reporter_id', '=', flooder.id)
      .execute();
    expect(stored).toHaveLength(5);
  });
});
