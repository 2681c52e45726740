import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';

let seq = 0;
const email = (name: string) => `${name}-${process.pid}-${++seq}@example.com`;

describe.each(testDatabases())('handles on $name', (db) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(db);
  });
  afterAll(() => t.close());

  const register = (body: Record<string, unknown>, ip = `10.1.${seq % 250}.${++seq % 250}`) =>
    t.call('POST', '/api/auth/register', {
      ip,
      body: { email: email('h'), password: 'correct horse battery', displayName: 'Someone', ...body },
    });

  it('derives a handle from the display name and numbers the next one with the same name', async () => {
    const first = await register({ displayName: 'Zoë Ünal-Smith' });
    expect(first.status).toBe(201);
    expect(first.body.user.handle).toBe('zoe-unal-smith');
    const second = await register({ displayName: 'ZOE unal smith!' });
    expect(second.body.user.handle).toBe('zoe-unal-smith-2');
    const me = await t.call('GET', '/api/me', { token: second.body.accessToken });
    expect(me.body.handle).toBe('zoe-unal-smith-2');
  });

  it('gives a short, empty or reserved name a suffixed handle', async () => {
    expect((await register({ displayName: 'Al' })).body.user.handle).toBe('al-2');
    expect((await register({ displayName: '✨✨' })).body.user.handle).toBe('user');
    expect((await register({ displayName: 'Admin' })).body.user.handle).toBe('admin-2');
  });

  it('takes a chosen handle, stored lowercase, and refuses it again in any case (409 handle_taken)', async () => {
    const mine = await register({ handle: 'Night-Owl' });
    expect(mine.status).toBe(201);
    expect(mine.body.user.handle).toBe('night-owl');
    const before = await t.count('users');
    const again = await register({ handle: 'NIGHT-owl' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('handle_taken');
    expect(await t.count('users')).toBe(before);
  });

  it.each([
    ['too short', 'ab'],
    ['too long', 'a'.repeat(31)],
    ['a space', 'night owl'],
    ['an underscore', 'night_owl'],
    ['a leading dash', '-owl'],
    ['a trailing dash', 'owl-'],
    ['reserved: admin', 'admin'],
    ['reserved: replays', 'Replays'],
    ['reserved: c', 'c'],
    ['reserved: signup', 'signup'],
  ])('refuses a handle with %s (400)', async (_, handle) => {
    const res = await register({ handle });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
  });

  it('lets one of a burst of parallel sign-ups with the same handle win; the others get 409', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => register({ handle: 'burst' }, `10.9.0.${i}`)),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409]);
    for (const r of results.filter((x) => x.status === 409)) expect(r.body.error.code).toBe('handle_taken');
    const rows = await t.database.db.selectFrom('users').select('id').where('handle', '=', 'burst').execute();
    expect(rows).toHaveLength(1);
  });

  it('gives a burst of parallel sign-ups with the same name distinct derived handles', async () => {
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) => register({ displayName: 'Same Name' }, `10.8.0.${i}`)),
    );
    expect(results.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    const handles = results.map((r) => r.body.user.handle).sort();
    expect(new Set(handles).size).toBe(5);
    expect(handles).toContain('same-name');
  });

  it('changes the handle from the profile: 200, 409 when taken (any case), 400 when invalid', async () => {
    const a = await register({ handle: 'first-one' });
    const b = await register({ handle: 'second-one' });
    const changed = await t.call('PATCH', '/api/me', { token: a.body.accessToken, body: { handle: 'Renamed-One' } });
    expect(changed.status).toBe(200);
    expect(changed.body.handle).toBe('renamed-one');
    // Keeping one's own handle is no conflict.
    const same = await t.call('PATCH', '/api/me', { token: a.body.accessToken, body: { handle: 'renamed-one' } });
    expect(same.status).toBe(200);
    const taken = await t.call('PATCH', '/api/me', { token: b.body.accessToken, body: { handle: 'RENAMED-ONE' } });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe('handle_taken');
    const invalid = await t.call('PATCH', '/api/me', { token: b.body.accessToken, body: { handle: 'api' } });
    expect(invalid.status).toBe(400);
    expect((await t.call('GET', '/api/me', { token: b.body.accessToken })).body.handle).toBe('second-one');
    // The old address is free again.
    expect((await register({ handle: 'first-one' })).status).toBe(201);
  });

  it('has no handle for a guest', async () => {
    const guest = await t.call('POST', '/api/auth/guest');
    expect(guest.body.user.handle).toBeNull();
    expect((await t.call('GET', '/api/me', { token: guest.body.accessToken })).body.handle).toBeNull();
  });
});
