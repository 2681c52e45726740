import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { resetLinkIn, startTestSmtp } from './test-smtp.js';

const PASSWORD = 'correct horse battery';
const tokenOf = (link: string) => new URL(link).hash.replace('#token=', '');

describe.each(testDatabases())('passwords ($name)', (db) => {
  let smtp: Awaited<ReturnType<typeof startTestSmtp>>;
  let t: TestPlatform;
  let noMail: TestPlatform;
  beforeAll(async () => {
    smtp = await startTestSmtp();
    t = await startTestPlatform(db, {
      smtpUrl: smtp.url,
      smtpFrom: 'FusionFlow <no-reply@fusionflow.test>',
      publicUrl: 'https://live.example.com',
      passwordResetsPerHour: 3,
    });
    noMail = await startTestPlatform(db);
  });
  afterAll(async () => {
    await t?.close();
    await noMail?.close();
    await smtp?.close();
  });

  const login = (p: TestPlatform, email: string, password: string) =>
    p.call('POST', '/api/auth/login', { body: { email, password } });

  it('changes a password with the current one; other sessions end, this one stays', async () => {
    const u = await t.signUp('Changer');
    const other = await login(t, u.email, PASSWORD);
    const wrong = await t.call('POST', '/api/me/password', {
      token: u.token,
      body: { currentPassword: 'not it at all', newPassword: 'a new long password' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe('invalid_credentials');
    const short = await t.call('POST', '/api/me/password', {
      token: u.token,
      body: { currentPassword: PASSWORD, newPassword: 'short' },
    });
    expect(short.body.error.code).toBe('validation_failed');

    const ok = await t.call('POST', '/api/me/password', {
      token: u.token,
      body: { currentPassword: PASSWORD, newPassword: 'a new long password' },
    });
    expect(ok.status).toBe(204);
    expect((await login(t, u.email, PASSWORD)).status).toBe(401);
    expect((await login(t, u.email, 'a new long password')).status).toBe(200);
    expect((await t.call('GET', '/api/me', { token: u.token })).status).toBe(200);
    expect((await t.call('GET', '/api/me', { token: other.body.accessToken })).body.error.code).toBe('session_ended');
    expect(
      (await t.call('POST', '/api/me/password', { body: { currentPassword: 'x', newPassword: 'yyyyyyyy' } })).status,
    ).toBe(401);
  });

  it('emails a single-use reset link through SMTP; the reset ends every session', async () => {
    expect((await t.call('GET', '/api/auth/options')).body).toEqual({ passwordResetByEmail: true });
    const u = await t.signUp('Forgetful', { language: 'es' });
    const asked = await t.call('POST', '/api/auth/password-reset', { body: { email: u.email.toUpperCase() } });
    expect(asked.status).toBe(202);
    const mail = await smtp.next();
    expect(mail.to).toEqual([u.email]);
    expect(mail.from).toBe('no-reply@fusionflow.test');
    // In the account's language.
    expect(mail.raw).toContain('Alguien (esperamos');
    const link = resetLinkIn(mail)!;
    // PUBLIC_URL, whatever Host the request named.
    expect(link.startsWith('https://live.example.com/reset-password#token=')).toBe(true);
    const token = tokenOf(link);

    const reset = await t.call('POST', '/api/auth/password-reset/confirm', {
      body: { token, newPassword: 'reset and remembered' },
    });
    expect(reset.status).toBe(204);
    expect((await login(t, u.email, 'reset and remembered')).status).toBe(200);
    expect((await t.call('GET', '/api/me', { token: u.token })).body.error.code).toBe('session_ended');
    // Once only.
    const again = await t.call('POST', '/api/auth/password-reset/confirm', {
      body: { token, newPassword: 'someone else wants in' },
    });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('reset_token_invalid');
  });

  it('answers the same for an email without an account, and sends nothing', async () => {
    const before = smtp.mails.length;
    const asked = await t.call('POST', '/api/auth/password-reset', {
      body: { email: 'nobody-here@example.com' },
      ip: '10.0.0.9',
    });
    expect(asked.status).toBe(202);
    expect(asked.body).toEqual({});
    // A real account asked right after: its mail is the next one (the unknown one sent nothing).
    const u = await t.signUp('Real');
    await t.call('POST', '/api/auth/password-reset', { body: { email: u.email }, ip: '10.0.0.9' });
    const mail = await smtp.next();
    expect(mail.to).toEqual([u.email]);
    expect(smtp.mails.length).toBe(before + 1);
  });

  it('refuses forged, expired and raced tokens: of a burst with one token, one wins', async () => {
    const forged = await t.call('POST', '/api/auth/password-reset/confirm', {
      body: { token: 'A'.repeat(43), newPassword: 'forged forged forged' },
    });
    expect(forged.body.error.code).toBe('reset_token_invalid');
    const junk = await t.call('POST', '/api/auth/password-reset/confirm', {
      body: { token: '../../etc/passwd', newPassword: 'forged forged forged' },
    });
    expect(junk.body.error.code).toBe('validation_failed');

    const u = await t.signUp('Raced');
    await t.call('POST', '/api/auth/password-reset', { body: { email: u.email }, ip: '10.0.0.20' });
    const token = tokenOf(resetLinkIn(await smtp.next())!);
    const burst = await Promise.all(
      [0, 1, 2, 3, 4].map((i) =>
        t.call('POST', '/api/auth/password-reset/confirm', { body: { token, newPassword: `new password ${i}` } }),
      ),
    );
    expect(burst.filter((r) => r.status === 204)).toHaveLength(1);
    expect(burst.filter((r) => r.body?.error?.code === 'reset_token_invalid')).toHaveLength(4);

    // Expired: a link older than PASSWORD_RESET_TTL_MINUTES works no more.
    const v = await t.signUp('Late');
    await t.call('POST', '/api/auth/password-reset', { body: { email: v.email }, ip: '10.0.0.21' });
    const late = tokenOf(resetLinkIn(await smtp.next())!);
    await t.database.db
      .updateTable('password_resets')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('user_id', '=', v.id)
      .execute();
    const expired = await t.call('POST', '/api/auth/password-reset/confirm', {
      body: { token: late, newPassword: 'too late for this' },
    });
    expect(expired.body.error.code).toBe('reset_token_invalid');
    expect((await login(t, v.email, PASSWORD)).status).toBe(200);
  });

  it('limits reset emails per address and per email, whether or not the account exists', async () => {
    const u = await t.signUp('Flooded');
    const fromOneIp = [];
    for (let i = 0; i < 4; i++) {
      fromOneIp.push(
        await t.call('POST', '/api/auth/password-reset', { body: { email: `x${i}@example.com` }, ip: '10.0.1.1' }),
      );
    }
    expect(fromOneIp.map((r) => r.status)).toEqual([202, 202, 202, 429]);
    const oneEmail = [];
    for (let i = 0; i < 4; i++) {
      oneEmail.push(await t.call('POST', '/api/auth/password-reset', { body: { email: u.email }, ip: `10.0.2.${i}` }));
    }
    expect(oneEmail.map((r) => r.status)).toEqual([202, 202, 202, 429]);
    for (let i = 0; i < 3; i++) await smtp.next();
  });

  it('without SMTP: no reset by email (the link is hidden), and an admin makes a reset link', async () => {
    expect((await noMail.call('GET', '/api/auth/options')).body).toEqual({ passwordResetByEmail: false });
    const asked = await noMail.call('POST', '/api/auth/password-reset', { body: { email: 'a@example.com' } });
    expect(asked.status).toBe(503);
    const u = await noMail.signUp('Locked Out');
    const viewer = await noMail.signUp('Not An Admin');
    const refused = await noMail.call('POST', `/api/admin/users/${u.id}/password-reset`, { token: viewer.token });
    expect(refused.status).toBe(403);
    const admin = await noMail.signUpAs('Admin', 'admin');
    const made = await noMail.call('POST', `/api/admin/users/${u.id}/password-reset`, {
      token: admin.token,
      headers: { host: '127.0.0.1:8080' },
    });
    expect(made.status).toBe(201);
    expect(made.body.resetUrl).toMatch(/^http:\/\/127\.0\.0\.1:8080\/reset-password#token=/);
    const reset = await noMail.call('POST', '/api/auth/password-reset/confirm', {
      body: { token: tokenOf(made.body.resetUrl), newPassword: 'handed over safely' },
    });
    expect(reset.status).toBe(204);
    expect((await login(noMail, u.email, 'handed over safely')).status).toBe(200);
  });
});
