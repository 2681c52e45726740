import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import type { TestPlatform } from '../../test-support.js';
import { connectPeer } from '../signaling/test-signaling.js';
import { createRoom, key, requestPayout, startGovernancePlatform, streamerWithEarnings } from './test-governance.js';

const PASSWORD = 'correct horse battery';

describe.each(testDatabases())('users, roles and suspensions ($name)', (db) => {
  let t: TestPlatform;
  let url: string;
  let admin: { token: string; id: string };
  let moderator: { token: string; id: string };

  beforeAll(async () => {
    t = await startGovernancePlatform(db);
    url = await t.platform.listen();
    admin = await t.signUpAs('Root Admin', 'admin');
    moderator = await t.signUpAs('Mia Moderator', 'moderator');
  }, 60_000);
  afterAll(() => t?.close());

  const login = (email: string) => t.call('POST', '/api/auth/login', { body: { email, password: PASSWORD } });
  const setRole = (token: string, id: string, role: string) =>
    t.call('PUT', `/api/admin/users/${id}/role`, { token, body: { role, reason: 'test' } });
  const suspend = (token: string, id: string, body: Record<string, unknown> = { reason: 'spam' }) =>
    t.call('POST', `/api/admin/users/${id}/suspension`, { token, body });

  it('finds accounts by name or email, with role and suspension filters', async () => {
    const zed = await t.signUp('Zed Zebrafish');
    const res = await t.call('GET', '/api/admin/users?q=zebra', { token: moderator.token });
    expect(res.status).toBe(200);
    expect(res.body.users).toEqual([
      expect.objectContaining({ id: zed.id, displayName: 'Zed Zebrafish', role: 'viewer', suspension: null }),
    ]);
    const byEmail = await t.call('GET', `/api/admin/users?q=${encodeURIComponent(zed.email.slice(0, 12))}`, {
      token: admin.token,
    });
    expect(byEmail.body.users.map((u: { id: string }) => u.id)).toContain(zed.id);
    // LIKE wildcards are literal: "%" finds nobody whose name lacks one.
    expect((await t.call('GET', '/api/admin/users?q=%25', { token: admin.token })).body.users).toEqual([]);
    const mods = await t.call('GET', '/api/admin/users?role=moderator', { token: admin.token });
    expect(mods.body.users.map((u: { id: string }) => u.id)).toEqual([moderator.id]);
  });

  it('shows one account: balance, earnings, recent rooms and reports', async () => {
    const earner = await streamerWithEarnings(t, 70, 'Detail Streamer');
    await requestPayout(t, earner.token, 20);
    const res = await t.call('GET', `/api/admin/users/${earner.id}`, { token: moderator.token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: earner.id,
      role: 'streamer',
      balance: 0,
      earnings: { available: 50, total: 70 },
      recentRooms: [expect.objectContaining({ id: earner.room, kind: 'live', status: 'created' })],
      reports: [],
      suspension: null,
    });
    expect((await t.call('GET', `/api/admin/users/${randomUUID()}`, { token: admin.token })).status).toBe(404);
  });

  it('changes roles (admins only) and records each change', async () => {
    const user = await t.signUp('Promoted');
    const byMod = await setRole(moderator.token, user.id, 'moderator');
    expect(byMod.status).toBe(403);
    const patchByMod = await t.call('PATCH', `/api/admin/users/${user.id}`, {
      token: moderator.token,
      body: { role: 'admin' },
    });
    expect(patchByMod.status).toBe(403);
    const res = await setRole(admin.token, user.id, 'studio');
    expect(res.status).toBe(200);
    expect(res.body.role).toBe('studio');
    const audit = await t.call('GET', `/api/admin/audit?targetId=${user.id}&action=user.role`, { token: admin.token });
    expect(audit.body.events).toEqual([
      expect.objectContaining({
        actorId: admin.id,
        reason: 'test',
        requestId: res.headers['x-request-id'],
        details: { from: 'viewer', to: 'studio' },
      }),
    ]);
  });

  it('keeps the last admin: neither a demotion nor a suspension removes them, even two at once', async () => {
    const solo = await startGovernancePlatform(db);
    try {
      const only = await solo.signUpAs('Only Admin', 'admin');
      const demote = await solo.call('PUT', `/api/admin/users/${only.id}/role`, {
        token: only.token,
        body: { role: 'viewer' },
      });
      expect(demote.status).toBe(409);
      expect(demote.body.error.code).toBe('last_admin');
      const second = await solo.signUpAs('Second Admin', 'admin');
      // Each demotes the other at the same moment: one of them must stay admin.
      const [a, b] = await Promise.all([
        solo.call('PUT', `/api/admin/users/${second.id}/role`, { token: only.token, body: { role: 'viewer' } }),
        solo.call('PUT', `/api/admin/users/${only.id}/role`, { token: second.token, body: { role: 'viewer' } }),
      ]);
      // The loser is refused: the last admin (409), or already demoted and signed out (401/403).
      const statuses = [a.status, b.status].sort();
      expect(statuses[0]).toBe(200);
      expect([401, 403, 409]).toContain(statuses[1]);
      const admins = await solo.database.db.selectFrom('users').select('id').where('role', '=', 'admin').execute();
      expect(admins).toHaveLength(1);
      const last = admins[0]!.id;
      const lastToken = last === only.id ? only.token : second.token;
      const other = await solo.signUpAs('Third Admin', 'admin');
      const suspendSelf = await solo.call('POST', `/api/admin/users/${last}/suspension`, {
        token: lastToken,
        body: { reason: 'x' },
      });
      expect(suspendSelf.status).toBe(403);
      // Two admins: one may suspend the other, but then the remaining one is the last.
      expect(
        (
          await solo.call('POST', `/api/admin/users/${other.id}/suspension`, {
            token: lastToken,
            body: { reason: 'x' },
          })
        ).status,
      ).toBe(200);
      const demoteLast = await solo.call('PUT', `/api/admin/users/${last}/role`, {
        token: lastToken,
        body: { role: 'viewer' },
      });
      expect(demoteLast.body.error.code).toBe('last_admin');
    } finally {
      await solo.close();
    }
  });

  it('a demoted admin loses admin routes at once and is signed out everywhere', async () => {
    const former = await t.signUpAs('Former Admin', 'admin');
    expect((await t.call('GET', '/api/admin/payouts', { token: former.token })).status).toBe(200);
    const peer = await connectPeer(url, former.token);
    try {
      expect((await setRole(admin.token, former.id, 'viewer')).status).toBe(200);
      const refused = await t.call('GET', '/api/admin/payouts', { token: former.token });
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe('session_ended');
      expect((await peer.next('error')).code).toBe('session_ended');
    } finally {
      peer.close();
    }
  });

  it('a moderator suspends viewers and streamers, never moderators or admins', async () => {
    const viewer = await t.signUp('Spammer');
    const otherMod = await t.signUpAs('Other Mod', 'moderator');
    for (const target of [admin.id, otherMod.id]) {
      const res = await suspend(moderator.token, target);
      expect(res.status).toBe(403);
    }
    expect((await suspend(moderator.token, moderator.id)).status).toBe(403);
    const ok = await suspend(moderator.token, viewer.id, { reason: 'spam links' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ userId: viewer.id, reason: 'spam links', until: null, by: moderator.id });
    // Reinstating is for admins.
    expect(
      (await t.call('POST', `/api/admin/users/${viewer.id}/reinstate`, { token: moderator.token, body: {} })).status,
    ).toBe(403);
  });

  it('a suspension signs out everywhere, kills the refresh token, refuses sign-in with the reason and end', async () => {
    const user = await t.signUp('Suspect');
    const second = await login(user.email); // another device
    const until = new Date(Date.now() + 3 * 86_400_000).toISOString();
    const res = await suspend(admin.token, user.id, { reason: 'harassment', until });
    expect(res.status).toBe(200);

    for (const token of [user.token, second.body.accessToken]) {
      const me = await t.call('GET', '/api/me', { token });
      expect(me.status).toBe(401);
      expect(me.body.error.code).toBe('session_ended');
    }
    for (const cookie of [user.cookie, second.refreshCookie!]) {
      expect((await t.call('POST', '/api/auth/refresh', { cookie })).status).toBe(401);
    }
    const again = await login(user.email);
    expect(again.status).toBe(403);
    expect(again.body.error).toMatchObject({ code: 'suspended', details: { reason: 'harassment', until } });
    // A wrong password learns nothing about the suspension.
    const wrong = await t.call('POST', '/api/auth/login', { body: { email: user.email, password: 'wrong password' } });
    expect(wrong.body.error.code).toBe('invalid_credentials');

    const listed = await t.call('GET', '/api/admin/users?suspended=true', { token: admin.token });
    expect(listed.body.users.map((u: { id: string }) => u.id)).toContain(user.id);
    const audit = await t.call('GET', `/api/admin/audit?targetId=${user.id}&action=user.suspend`, {
      token: admin.token,
    });
    expect(audit.body.events[0]).toMatchObject({ reason: 'harassment', details: { until } });

    // A suspension whose end has passed no longer counts.
    await t.database.db
      .updateTable('suspensions')
      .set({ until: new Date(Date.now() - 1000) })
      .where('user_id', '=', user.id)
      .execute();
    expect((await login(user.email)).status).toBe(200);
  });

  it('a reinstated account signs in again; money and chat need a session, which a suspended one has none of', async () => {
    const user = await t.signUp('Reinstated');
    const roomId = await createRoom(t, (await t.signUp('Host 2', { role: 'streamer' })).token);
    expect((await suspend(admin.token, user.id, { reason: 'mistake' })).status).toBe(200);
    const tip = await t.call('POST', `/api/rooms/${roomId}/tips`, {
      token: user.token,
      headers: { 'idempotency-key': key() },
      body: { amount: 1 },
    });
    expect(tip.status).toBe(401);
    const grant = await t.call('POST', `/api/rooms/${roomId}/grants`, {
      token: user.token,
      body: { role: 'subscribe' },
    });
    expect(grant.status).toBe(401);
    await expect(connectPeer(url, user.token)).rejects.toThrow();
    const lifted = await t.call('POST', `/api/admin/users/${user.id}/reinstate`, {
      token: admin.token,
      body: { reason: 'appeal accepted' },
    });
    expect(lifted.status).toBe(204);
    expect((await login(user.email)).status).toBe(200);
    expect(
      (await t.call('POST', `/api/admin/users/${user.id}/reinstate`, { token: admin.token, body: {} })).status,
    ).toBe(404);
    const audit = await t.call('GET', `/api/admin/audit?targetId=${user.id}`, { token: admin.token });
    expect(audit.body.events.map((e: { action: string }) => e.action)).toEqual(['user.reinstate', 'user.suspend']);
  });
});
