import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import type { TestPlatform } from '../../test-support.js';
import { startGovernancePlatform } from './test-governance.js';

/** What a moderator may reach under /api/admin (everything else is for admins). */
const MODERATOR_ROUTES = new Set([
  'get /api/admin/users',
  'get /api/admin/users/{id}',
  'post /api/admin/users/{id}/suspension',
  'get /api/admin/reports',
  'post /api/admin/reports/{id}/claim',
  'post /api/admin/reports/{id}/resolve',
]);

/**
 * Every admin route, walked from the OpenAPI document (a new route is covered without changing
 * this test): refused without a session (401), for a guest, a viewer, a streamer and a studio
 * (403), and for a moderator (403) unless it is one of the few a moderator works with.
 */
describe.each(testDatabases())('every admin route refuses those it is not for ($name)', (db) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startGovernancePlatform(db);
  });
  afterAll(() => t?.close());

  it('walks them all', async () => {
    const admin = await t.signUpAs('Admin', 'admin');
    const moderator = await t.signUpAs('Moderator', 'moderator');
    const studio = await t.signUpAs('Studio', 'studio');
    const viewer = await t.signUp('Viewer');
    const streamer = await t.signUp('Streamer', { role: 'streamer' });
    const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken as string;
    const doc = (
      t.platform.app as unknown as { swagger(): { paths: Record<string, Record<string, unknown>> } }
    ).swagger();
    const routes = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/api/admin'))
      .flatMap(([path, ops]) => Object.keys(ops).map((method) => ({ method, path })));
    expect(routes.length).toBeGreaterThanOrEqual(15);
    for (const named of MODERATOR_ROUTES) {
      expect(
        routes.map((r) => `${r.method} ${r.path}`),
        `${named} exists`,
      ).toContain(named);
    }

    const problems: string[] = [];
    for (const { method, path } of routes) {
      // A real id, so nothing but the guard can refuse; an empty body, which only an admin's request gets to validate.
      const url = path.replace(/\{[^}]+\}/g, admin.id);
      const expectStatus = async (who: string, token: string | undefined, status: number) => {
        const res = await t.call(method, url, { ...(token ? { token } : {}), body: {} });
        if (res.status !== status) problems.push(`${method} ${path} as ${who}: ${res.status} (wanted ${status})`);
      };
      await expectStatus('nobody', undefined, 401);
      for (const [who, token] of [
        ['guest', guest],
        ['viewer', viewer.token],
        ['streamer', streamer.token],
        ['studio', studio.token],
      ] as const) {
        await expectStatus(who, token, 403);
      }
      if (!MODERATOR_ROUTES.has(`${method} ${path}`)) await expectStatus('moderator', moderator.token, 403);
    }
    expect(problems).toEqual([]);

    // Where a moderator may go, the powers stop short of admins.
    const suspendAdmin = await t.call('POST', `/api/admin/users/${admin.id}/suspension`, {
      token: moderator.token,
      body: { reason: 'coup' },
    });
    expect(suspendAdmin.status).toBe(403);
  });
});
