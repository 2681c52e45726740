import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { PasswordHasher } from './password-hasher.js';

const PASSWORD = 'correct horse battery';

describe.each(testDatabases())('identity on $name', (db) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(db, { loginFailuresPerAccountPerIp: 3, loginRatePerIpPerMinute: 8 });
  });
  afterAll(() => t.close());

  describe('register', () => {
    it('creates an account, signs it in and sets an httpOnly refresh cookie', async () => {
      const res = await t.call('POST', '/api/auth/register', {
        body: { email: 'Ana@Example.com', password: PASSWORD, displayName: 'Ana', role: 'streamer', language: 'es' },
      });
      expect(res.status).toBe(201);
      expect(res.body.user).toMatchObject({
        email: 'ana@example.com',
        displayName: 'Ana',
        role: 'streamer',
        language: 'es',
      });
      expect(res.body.user).not.toHaveProperty('passwordHash');
      expect(res.body.accessToken).toMatch(/^ey/);
      const setCookie = String(res.headers['set-cookie']);
      expect(setCookie).toMatch(/ff_refresh=/);
      expect(setCookie).toMatch(/HttpOnly/i);
      expect(setCookie).toMatch(/SameSite=Strict/i);
      expect(setCookie).toMatch(/Path=\/api\/auth/);
      const stored = await t.database.db
        .selectFrom('users')
        .selectAll()
        .where('email', '=', 'ana@example.com')
        .executeTakeFirstOrThrow();
      expect(stored.password_hash).toMatch(/^scrypt\$10\$8\$1\$/);
      expect(stored.password_hash).not.toContain(PASSWORD);
      const tokens = await t.database.db
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('user_id', '=', stored.id)
        .execute();
      expect(tokens).toHaveLength(1);
      expect(tokens[0]!.token_hash).not.toBe(res.refreshCookie);
    });

    it('refuses a duplicate email in any case and changes nothing', async () => {
      const before = await t.count('users');
      const res = await t.call('POST', '/api/auth/register', {
        body: { email: 'ANA@example.com', password: PASSWORD, displayName: 'Other Ana' },
      });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe('email_taken');
      expect(await t.count('users')).toBe(before);
    });

    it.each([
      ['a role only an admin grants', { email: 'x1@example.com', password: PASSWORD, displayName: 'X', role: 'admin' }],
      ['an unknown field', { email: 'x2@example.com', password: PASSWORD, displayName: 'X', isAdmin: true }],
      ['a wrong type', { email: 'x3@example.com', password: 12345678, displayName: 'X' }],
      ['a bad email', { email: 'not-an-email', password: PASSWORD, displayName: 'X' }],
      ['a short password', { email: 'x4@example.com', password: 'short', displayName: 'X' }],
      ['an empty display name', { email: 'x5@example.com', password: PASSWORD, displayName: '   ' }],
      ['a bad language', { email: 'x6@example.com', password: PASSWORD, displayName: 'X', language: 'english' }],
    ])('refuses %s with 400 validation_failed', async (_what, body) => {
      const before = await t.count('users');
      const res = await t.call('POST', '/api/auth/register', { body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.message).toEqual(expect.any(String));
      expect(JSON.stringify(res.body)).not.toMatch(/at .*\.ts:\d+/);
      expect(await t.count('users')).toBe(before);
    });

    it('refuses malformed JSON, oversized bodies and other content types', async () => {
      const before = await t.count('users');
      const malformed = await t.call('POST', '/api/auth/register', {
        raw: '{"email": "a@b.co", ',
        headers: { 'content-type': 'application/json' },
      });
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.code).toBe('malformed_json');
      const huge = await t.call('POST', '/api/auth/register', {
        body: { email: 'big@example.com', password: PASSWORD, displayName: 'x'.repeat(70_000) },
      });
      expect(huge.status).toBe(413);
      expect(huge.body.error.code).toBe('payload_too_large');
      const text = await t.call('POST', '/api/auth/register', {
        raw: 'email=a@b.co',
        headers: { 'content-type': 'text/plain' },
      });
      expect(text.status).toBe(415);
      expect(text.body.error.code).toBe('unsupported_media_type');
      expect(await t.count('users')).toBe(before);
    });
  });

  describe('registration limits', () => {
    it('limits sign-ups per address, before hashing anything', async () => {
      const p = await startTestPlatform(db, { registrationsPerIpPerHour: 3 });
      const hash = vi.spyOn(PasswordHasher.prototype, 'hash');
      try {
        const register = (name: string, ip: string) =>
          p.call('POST', '/api/auth/register', {
            body: { email: `${name}@limits.example.com`, password: PASSWORD, displayName: name },
            ip,
          });
        for (const name of ['r1', 'r2', 'r3']) expect((await register(name, '10.3.0.1')).status).toBe(201);
        hash.mockClear();
        const before = await p.count('users');
        const refused = await register('r4', '10.3.0.1');
        expect(refused.status).toBe(429);
        expect(refused.body.error.code).toBe('rate_limited');
        expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
        expect(hash).not.toHaveBeenCalled();
        expect(await p.count('users')).toBe(before);
        expect((await register('r5', '10.3.0.2')).status).toBe(201);
      } finally {
        hash.mockRestore();
        await p.close();
      }
    });

    it('hashes at most REGISTRATION_HASH_CONCURRENCY sign-ups at once, refuses past the queue, and never queues a sign-in behind them', async () => {
      const p = await startTestPlatform(db, { registrationHashConcurrency: 1, passwordHashMaxWaiting: 20 });
      const original = PasswordHasher.prototype.hash;
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let inFlight = 0;
      let most = 0;
      let blocking = false;
      const hash = vi.spyOn(PasswordHasher.prototype, 'hash').mockImplementation(async function (
        this: PasswordHasher,
        pw,
      ) {
        inFlight += 1;
        most = Math.max(most, inFlight);
        try {
          if (blocking) await gate;
          return await original.call(this, pw);
        } finally {
          inFlight -= 1;
        }
      });
      try {
        const user = await p.signUp('Regular');
        blocking = true;
        // A flood of 30 sign-ups from 30 addresses; their hashing is held until the gate opens.
        let finished = 0;
        const flood = Array.from({ length: 30 }, (_, i) =>
          p
            .call('POST', '/api/auth/register', {
              body: { email: `flood${i}@flood.example.com`, password: PASSWORD, displayName: `F${i}` },
              ip: `10.5.0.${i + 1}`,
            })
            .finally(() => {
              finished += 1;
            }),
        );
        await vi.waitFor(() => expect(inFlight).toBe(1));
        // While the flood waits, a sign-in goes through at once: it has its own share.
        const login = await p.call('POST', '/api/auth/login', {
          body: { email: user.email, password: PASSWORD },
          ip: '10.5.1.1',
        });
        expect(login.status).toBe(200);
        // Past the queue (1 hashing, 20 waiting), sign-ups were refused at once, not queued.
        await vi.waitFor(() => expect(finished).toBe(9));
        release();
        const statuses = (await Promise.all(flood)).map((r) => r.status);
        expect(statuses.filter((s) => s === 201)).toHaveLength(21);
        expect(statuses.filter((s) => s === 503)).toHaveLength(9);
        expect(most).toBe(1);
      } finally {
        release();
        hash.mockRestore();
        await p.close();
      }
    });
  });

  describe('login', () => {
    it('signs in with the right password only', async () => {
      const user = await t.signUp('Bruno');
      const ok = await t.call('POST', '/api/auth/login', { body: { email: user.email, password: PASSWORD } });
      expect(ok.status).toBe(200);
      expect(ok.body.user.id).toBe(user.id);
      expect(ok.refreshCookie).toBeDefined();
      const wrong = await t.call('POST', '/api/auth/login', {
        body: { email: user.email, password: 'wrong password' },
        ip: '10.0.0.1',
      });
      expect(wrong.status).toBe(401);
      expect(wrong.body.error.code).toBe('invalid_credentials');
      const nobody = await t.call('POST', '/api/auth/login', {
        body: { email: 'nobody@example.com', password: PASSWORD },
        ip: '10.0.0.1',
      });
      expect(nobody.status).toBe(401);
      expect(nobody.body.error.code).toBe('invalid_credentials');
    });

    it('never lets a stranger failing from other addresses lock the owner out', async () => {
      const user = await t.signUp('Carla');
      const stranger: { status: number; retryAfter: number; message: string }[] = [];
      // Twelve addresses, each trying until it is refused.
      for (let a = 0; a < 12; a++) {
        for (let i = 0; i < 6; i++) {
          const res = await t.call('POST', '/api/auth/login', {
            body: { email: user.email, password: 'nope nope' },
            ip: `10.1.${a}.1`,
          });
          if (res.status === 401) continue;
          stranger.push({
            status: res.status,
            retryAfter: Number(res.headers['retry-after']),
            message: res.body.error.message,
          });
          break;
        }
      }
      // Every stranger address was held: the first by its (account, address) limit, the rest by the
      // account's progressive delay after their first failure.
      expect(stranger).toHaveLength(12);
      expect(stranger.every((r) => r.status === 429 && r.retryAfter > 0)).toBe(true);
      expect(stranger[0]!.message).toMatch(/from this address/);
      expect(stranger[11]!.message).toMatch(/wait before trying again/);
      // The owner, from an address of their own, gets in.
      const owner = await t.call('POST', '/api/auth/login', {
        body: { email: user.email, password: PASSWORD },
        ip: '10.1.200.1',
      });
      expect(owner.status).toBe(200);
      expect(owner.body.user.id).toBe(user.id);
    });

    it('counts attempts before checking: a parallel burst against one account from one address gets at most 10 checks', async () => {
      // The production limits (nothing overridden).
      const p = await startTestPlatform(db);
      const verify = vi.spyOn(PasswordHasher.prototype, 'verify');
      try {
        const user = await p.signUp('Burst');
        verify.mockClear();
        const results = await Promise.all(
          Array.from({ length: 40 }, (_, i) =>
            p.call('POST', '/api/auth/login', {
              body: { email: user.email, password: `wrong password ${i}` },
              ip: '10.4.0.1',
            }),
          ),
        );
        const checked = verify.mock.calls.length;
        expect(checked).toBeGreaterThan(0);
        expect(checked).toBeLessThanOrEqual(10);
        expect(results.filter((r) => r.status === 401)).toHaveLength(checked);
        expect(results.filter((r) => r.status === 429)).toHaveLength(40 - checked);
      } finally {
        verify.mockRestore();
        await p.close();
      }
    });

    it('limits attempts per client address', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const res = await t.call('POST', '/api/auth/login', {
          body: { email: `spray${i}@example.com`, password: PASSWORD },
          ip: '10.2.0.1',
        });
        statuses.push(res.status);
      }
      expect(statuses.slice(0, 8).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(8)).toEqual([429, 429]);
    });
  });

  describe('refresh and logout', () => {
    it('rotates the refresh token and revokes the family when an old one comes back', async () => {
      const user = await t.signUp('Dara');
      const first = await t.call('POST', '/api/auth/refresh', { cookie: user.cookie });
      expect(first.status).toBe(200);
      expect(first.body.accessToken).toMatch(/^ey/);
      expect(first.refreshCookie).toBeDefined();
      expect(first.refreshCookie).not.toBe(user.cookie);
      const second = await t.call('POST', '/api/auth/refresh', { cookie: first.refreshCookie! });
      expect(second.status).toBe(200);

      const replay = await t.call('POST', '/api/auth/refresh', { cookie: user.cookie });
      expect(replay.status).toBe(401);
      expect(replay.body.error.code).toBe('refresh_token_reused');
      // The thief's replay ended the whole session: the newest token is dead too, and so are its access tokens.
      const latest = await t.call('POST', '/api/auth/refresh', { cookie: second.refreshCookie! });
      expect(latest.status).toBe(401);
      const me = await t.call('GET', '/api/me', { token: second.body.accessToken });
      expect(me.status).toBe(401);
      expect(me.body.error.code).toBe('session_ended');
    });

    it('honours a refresh token re-used within the grace window once, not any number of times, also in parallel', async () => {
      const lenient = await startTestPlatform(db, { refreshReuseGraceSeconds: 30 });
      try {
        const refresh = (cookie: string) => lenient.call('POST', '/api/auth/refresh', { cookie });
        const user = await lenient.signUp('Once');
        const first = await refresh(user.cookie);
        const second = await refresh(user.cookie);
        expect([first.status, second.status]).toEqual([200, 200]);
        const third = await refresh(user.cookie);
        expect(third.status).toBe(401);
        expect(third.body.error.code).toBe('refresh_token_reused');
        // A third presentation is reuse: the session ended, the two tabs' new tokens with it.
        expect((await refresh(first.refreshCookie!)).status).toBe(401);
        expect((await refresh(second.refreshCookie!)).status).toBe(401);

        const other = await lenient.signUp('Parallel');
        const burst = await Promise.all(Array.from({ length: 8 }, () => refresh(other.cookie)));
        expect(burst.filter((r) => r.status === 200)).toHaveLength(2);
        expect(burst.filter((r) => r.status === 401)).toHaveLength(6);
      } finally {
        await lenient.close();
      }
    });

    it("ends a signed-out session's access tokens at once, and only that session's", async () => {
      const user = await t.signUp('Out');
      const refreshed = await t.call('POST', '/api/auth/refresh', { cookie: user.cookie });
      const elsewhere = await t.call('POST', '/api/auth/login', { body: { email: user.email, password: PASSWORD } });
      expect((await t.call('GET', '/api/me', { token: user.token })).status).toBe(200);

      expect((await t.call('POST', '/api/auth/logout', { cookie: refreshed.refreshCookie! })).status).toBe(204);
      for (const token of [user.token, refreshed.body.accessToken]) {
        const me = await t.call('GET', '/api/me', { token });
        expect(me.status).toBe(401);
        expect(me.body.error.code).toBe('session_ended');
      }
      // The same account's other sign-in (another device) is not touched.
      expect((await t.call('GET', '/api/me', { token: elsewhere.body.accessToken })).status).toBe(200);

      // A guest (no refresh cookie) signs out with its bearer token.
      const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken;
      expect((await t.call('POST', '/api/auth/logout', { token: guest })).status).toBe(204);
      expect((await t.call('GET', '/api/me', { token: guest })).body.error.code).toBe('session_ended');
      // A made-up bearer token changes nothing and still signs out.
      expect((await t.call('POST', '/api/auth/logout', { token: 'not.a.token' })).status).toBe(204);
    });

    it('forgives two tabs refreshing at once, within the grace window only', async () => {
      const lenient = await startTestPlatform(db, { refreshReuseGraceSeconds: 30 });
      try {
        const user = await lenient.signUp('Tabs');
        const [a, b] = await Promise.all([
          lenient.call('POST', '/api/auth/refresh', { cookie: user.cookie }),
          lenient.call('POST', '/api/auth/refresh', { cookie: user.cookie }),
        ]);
        expect([a.status, b.status]).toEqual([200, 200]);
        expect(a.refreshCookie).not.toBe(b.refreshCookie);
        // Neither tab lost its session.
        expect((await lenient.call('POST', '/api/auth/refresh', { cookie: a.refreshCookie! })).status).toBe(200);
        expect((await lenient.call('POST', '/api/auth/refresh', { cookie: b.refreshCookie! })).status).toBe(200);
      } finally {
        await lenient.close();
      }
    });

    it('sets a readable session hint beside the httpOnly cookie and clears both on logout', async () => {
      const login = await t.call('POST', '/api/auth/login', {
        body: { email: (await t.signUp('Hint')).email, password: PASSWORD },
      });
      const cookies = ([] as string[]).concat(login.headers['set-cookie'] as string[]);
      const hint = cookies.find((c) => c.startsWith('ff_session=1'));
      expect(hint).toBeDefined();
      expect(hint).not.toMatch(/HttpOnly/i);
      expect(hint).toMatch(/Path=\//);
      const out = await t.call('POST', '/api/auth/logout', { cookie: login.refreshCookie! });
      expect(String(out.headers['set-cookie'])).toMatch(/ff_session=;/);
    });

    it('ends the session on logout', async () => {
      const user = await t.signUp('Eli');
      const out = await t.call('POST', '/api/auth/logout', { cookie: user.cookie });
      expect(out.status).toBe(204);
      expect(String(out.headers['set-cookie'])).toMatch(/ff_refresh=;/);
      const after = await t.call('POST', '/api/auth/refresh', { cookie: user.cookie });
      expect(after.status).toBe(401);
      expect((await t.call('POST', '/api/auth/logout')).status).toBe(204);
    });

    it('refuses a missing or unknown refresh token', async () => {
      expect((await t.call('POST', '/api/auth/refresh')).status).toBe(401);
      expect((await t.call('POST', '/api/auth/refresh', { cookie: 'made-up' })).status).toBe(401);
    });
  });

  describe('me', () => {
    it('reads and updates the profile', async () => {
      const user = await t.signUp('Fay');
      const me = await t.call('GET', '/api/me', { token: user.token });
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ id: user.id, displayName: 'Fay', role: 'viewer', language: 'en' });
      const patched = await t.call('PATCH', '/api/me', {
        token: user.token,
        body: { displayName: 'Fay B', language: 'es' },
      });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ displayName: 'Fay B', language: 'es' });
      expect((await t.call('PATCH', '/api/me', { token: user.token, body: {} })).status).toBe(400);
      expect((await t.call('PATCH', '/api/me', { token: user.token, body: { role: 'admin' } })).status).toBe(400);
      expect((await t.call('GET', '/api/me', { token: user.token })).body.role).toBe('viewer');
    });

    it('refuses missing, forged, expired and alg-none tokens', async () => {
      expect((await t.call('GET', '/api/me')).body.error.code).toBe('unauthorized');
      expect((await t.call('GET', '/api/me', { headers: { authorization: 'Basic abc' } })).status).toBe(401);
      const forged = await new SignJWT({ role: 'admin', name: 'x', lang: 'en' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('someone')
        .setIssuer('fusionflow-control')
        .setAudience('fusionflow-api')
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode('not the server secret at all, no'));
      const f = await t.call('GET', '/api/me', { token: forged });
      expect(f.status).toBe(401);
      expect(f.body.error.code).toBe('unauthorized');
      const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"x","role":"admin"}').toString('base64url')}.`;
      expect((await t.call('GET', '/api/me', { token: none })).status).toBe(401);

      const shortLived = await startTestPlatform(db, { accessTokenTtlSeconds: 30, accessTokenSecret: 'x'.repeat(40) });
      try {
        const user = await shortLived.signUp('Gus');
        const { AccessTokens } = await import('./access-tokens.js');
        const expired = await new AccessTokens('x'.repeat(40), -60).sign({
          userId: user.id as never,
          role: 'viewer',
          displayName: 'Gus',
          language: 'en',
        });
        const res = await shortLived.call('GET', '/api/me', { token: expired.token });
        expect(res.status).toBe(401);
        expect(res.body.error.code).toBe('token_expired');
      } finally {
        await shortLived.close();
      }
    });
  });

  describe('guests and roles', () => {
    it('gives guests a session without an account', async () => {
      const guest = await t.call('POST', '/api/auth/guest');
      expect(guest.status).toBe(200);
      expect(guest.body.user).toMatchObject({ role: 'guest', email: null });
      expect(guest.refreshCookie).toBeUndefined();
      const me = await t.call('GET', '/api/me', { token: guest.body.accessToken });
      expect(me.body.role).toBe('guest');
      const patch = await t.call('PATCH', '/api/me', { token: guest.body.accessToken, body: { language: 'es' } });
      expect(patch.status).toBe(403);
    });

    it('lets only an admin grant roles', async () => {
      const admin = await t.signUpAs('Admin', 'admin');
      const user = await t.signUp('Hana');
      const refused = await t.call('PATCH', `/api/admin/users/${user.id}`, {
        token: user.token,
        body: { role: 'admin' },
      });
      expect(refused.status).toBe(403);
      const granted = await t.call('PATCH', `/api/admin/users/${user.id}`, {
        token: admin.token,
        body: { role: 'studio' },
      });
      expect(granted.status).toBe(200);
      expect(granted.body.role).toBe('studio');
      const bad = await t.call('PATCH', `/api/admin/users/${user.id}`, { token: admin.token, body: { role: 'king' } });
      expect(bad.status).toBe(400);
      const missing = await t.call('PATCH', '/api/admin/users/nobody', {
        token: admin.token,
        body: { role: 'studio' },
      });
      expect(missing.status).toBe(404);
    });
  });
});
