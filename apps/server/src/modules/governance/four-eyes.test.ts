import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import type { TestPlatform } from '../../test-support.js';
import { requestPayout, startGovernancePlatform, streamerWithEarnings } from './test-governance.js';

/**
 * Payouts with four eyes: nobody approves their own; above PAYOUT_SECOND_APPROVAL_TOKENS the
 * money leaves only when two different admins approved — the first approval moves nothing, the
 * same admin approving again is refused, a second admin completes it.
 */
describe.each(testDatabases())('four-eyes payouts ($name)', (db) => {
  let t: TestPlatform;
  let first: { token: string; id: string };
  let second: { token: string; id: string };

  beforeAll(async () => {
    t = await startGovernancePlatform(db, { payoutSecondApprovalTokens: 100 });
    first = await t.signUpAs('First Admin', 'admin');
    second = await t.signUpAs('Second Admin', 'admin');
  });
  afterAll(() => t?.close());

  const decide = (token: string, id: string, decision: 'approve' | 'reject', note?: string) =>
    t.call('POST', `/api/admin/payouts/${id}/decision`, { token, body: { decision, ...(note ? { note } : {}) } });
  const payoutsBalance = async () =>
    Number(
      (
        await t.database.db
          .selectFrom('account_balances')
          .select('balance')
          .where('id', '=', 'payouts')
          .executeTakeFirst()
      )?.balance ?? 0,
    );

  it('a payout at the threshold needs one admin', async () => {
    const earner = await streamerWithEarnings(t, 100, 'Small');
    const id = await requestPayout(t, earner.token, 100);
    const res = await decide(first.token, id, 'approve');
    expect(res.body).toMatchObject({ status: 'approved', needsSecondApproval: false, decidedBy: first.id });
  });

  it('a payout above it needs two different admins', async () => {
    const earner = await streamerWithEarnings(t, 250, 'Big');
    const id = await requestPayout(t, earner.token, 250);
    const before = await payoutsBalance();
    const once = await decide(first.token, id, 'approve', 'checked the invoice');
    expect(once.status).toBe(200);
    expect(once.body).toMatchObject({ status: 'pending', needsSecondApproval: true, firstApprovedBy: first.id });
    expect(await payoutsBalance()).toBe(before);
    const twice = await decide(first.token, id, 'approve');
    expect(twice.status).toBe(403);
    expect(twice.body.error.code).toBe('second_approval_required');
    expect(await payoutsBalance()).toBe(before);
    const done = await decide(second.token, id, 'approve');
    expect(done.body).toMatchObject({ status: 'approved', decidedBy: second.id, firstApprovedBy: first.id });
    expect(await payoutsBalance()).toBe(before + 250);
    const audit = await t.call('GET', `/api/admin/audit?targetId=${id}`, { token: first.token });
    expect(audit.body.events.map((e: { action: string; actorId: string }) => [e.action, e.actorId])).toEqual([
      ['payout.approve', second.id],
      ['payout.first_approval', first.id],
    ]);
  });

  it('two admins approving at the same moment pay out once, never on one pair of eyes', async () => {
    const earner = await streamerWithEarnings(t, 300, 'Racy');
    const id = await requestPayout(t, earner.token, 300);
    const before = await payoutsBalance();
    const answers = await Promise.all([decide(first.token, id, 'approve'), decide(second.token, id, 'approve')]);
    expect(answers.map((a) => a.status)).toEqual([200, 200]);
    // One of them was first; the other completed it.
    const final = (await t.call('GET', '/api/admin/payouts', { token: first.token })).body.payouts.find(
      (p: { id: string }) => p.id === id,
    );
    expect(final.status).toBe('approved');
    expect(final.firstApprovedBy).not.toBe(final.decidedBy);
    expect(await payoutsBalance()).toBe(before + 300);
  });

  it('an admin’s own large payout: they cannot approve it at either step', async () => {
    const studioAdmin = await streamerWithEarnings(t, 200, 'Admin Earner');
    await t.database.db.updateTable('users').set({ role: 'admin' }).where('id', '=', studioAdmin.id).execute();
    const login = await t.call('POST', '/api/auth/login', {
      body: { email: studioAdmin.email, password: 'correct horse battery' },
    });
    const own = login.body.accessToken as string;
    const id = await requestPayout(t, own, 200);
    expect((await decide(own, id, 'approve')).body.error.code).toBe('self_approval');
    expect((await decide(first.token, id, 'approve')).body.status).toBe('pending');
    expect((await decide(own, id, 'approve')).body.error.code).toBe('self_approval');
    // Either admin may still stop it: a rejection needs one pair of eyes.
    expect((await decide(second.token, id, 'reject', 'not this month')).body.status).toBe('rejected');
  });
});
