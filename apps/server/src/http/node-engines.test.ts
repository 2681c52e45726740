import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fastifyCookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Two dependencies declare `engines: { node: '>=22' }` (npm install on Node 20 warns EBADENGINE):
 * `cookie` 2 (through @fastify/cookie and Fastify's light-my-request) and `content-disposition` 3
 * (through @fastify/static). No release of their parents that allows Node 20 is current, and the
 * platform runs on Node 20: these tests prove, on the Node that runs them, that what we use works.
 */
describe('dependencies whose engines ask for Node 22', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ff-engines-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const modules = new URL('../../../../node_modules/', import.meta.url);

  it('name the packages this test covers (a new one needs a look)', () => {
    const engines = (name: string) =>
      (JSON.parse(readFileSync(new URL(`${name}/package.json`, modules), 'utf8')) as { engines?: { node?: string } })
        .engines;
    expect(engines('cookie')?.node).toBe('>=22');
    expect(engines('content-disposition')?.node).toBe('>=22');
    expect(process.versions.node.split('.')[0]).toMatch(/^(20|2[1-9])$/);
  });

  it('cookie 2: @fastify/cookie sets and parses cookies, light-my-request reads them back', async () => {
    const app = Fastify();
    await app.register(fastifyCookie);
    app.get('/set', (_req, reply) => {
      reply.setCookie('ff_refresh', 'a b;c', { httpOnly: true, sameSite: 'strict', path: '/api/auth', maxAge: 60 });
      return { ok: true };
    });
    app.get('/read', (req) => ({ cookies: req.cookies }));
    const set = await app.inject({ method: 'GET', url: '/set' });
    expect(set.headers['set-cookie']).toMatch(
      /^ff_refresh=a%20b%3Bc; Max-Age=60; Path=\/api\/auth; HttpOnly; SameSite=Strict/,
    );
    expect(set.cookies).toEqual([expect.objectContaining({ name: 'ff_refresh', value: 'a b;c', httpOnly: true })]);
    const read = await app.inject({ method: 'GET', url: '/read', cookies: { ff_refresh: 'a b;c', other: 'x' } });
    expect(read.json().cookies).toEqual({ ff_refresh: 'a b;c', other: 'x' });
    await app.close();
  });

  it('content-disposition 3: @fastify/static names a download, non-ASCII names included', async () => {
    writeFileSync(join(dir, 'recording.webm'), 'media');
    const app = Fastify();
    await app.register(fastifyStatic, { root: dir, serve: false });
    app.get('/download', (_req, reply) => reply.download('recording.webm', 'grabación ñ.webm'));
    const res = await app.inject({ method: 'GET', url: '/download' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('media');
    expect(res.headers['content-disposition']).toBe(
      `attachment; filename="grabaci?n ?.webm"; filename*=UTF-8''grabaci%C3%B3n%20%C3%B1.webm`,
    );
    await app.close();
  });
});
