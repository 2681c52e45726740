import { ClientMessages } from '@fusionflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { testDatabases } from '../db/test-databases.js';
import { connectPeer } from '../modules/signaling/test-signaling.js';
import { startTestPlatform, type TestPlatform } from '../test-support.js';

type JsonSchema = { [k: string]: any };
interface Sample {
  /** Where the NUL sits, for the report: `.displayName`, `.payload.sdp`, `[].x`. */
  path: string;
  value: unknown;
}

const NUL = 'x\u0000y';

/**
 * One value per string field of a JSON schema, with a NUL in that field and the literals its
 * branch needs (a discriminated union's `kind`), so validation reaches the field. Enums and
 * literals are not text. Knows both JSON Schema 2020-12 (zod) and OpenAPI 3.0 (`nullable`).
 */
function nulSamples(schema: JsonSchema, resolve: (ref: string) => JsonSchema): Sample[] {
  const s = schema.$ref ? resolve(schema.$ref) : schema;
  const options = s.anyOf ?? s.oneOf ?? s.allOf;
  if (options) return (options as JsonSchema[]).flatMap((o) => nulSamples(o, resolve));
  const types: string[] = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  if (types.includes('string') && s.const === undefined && s.enum === undefined) return [{ path: '', value: NUL }];
  if (types.includes('object') && s.properties) {
    const props = Object.entries(s.properties as Record<string, JsonSchema>);
    // A literal is `const` in JSON Schema and a one-value `enum` in OpenAPI 3.0 (a discriminated union's `type`).
    const literal = (p: JsonSchema) =>
      p.const ?? (Array.isArray(p.enum) && p.enum.length === 1 ? p.enum[0] : undefined);
    const consts = Object.fromEntries(
      props.filter(([, p]) => literal(p) !== undefined).map(([k, p]) => [k, literal(p)]),
    );
    return props.flatMap(([k, p]) =>
      nulSamples(p, resolve).map((x) => ({ path: `.${k}${x.path}`, value: { ...consts, [k]: x.value } })),
    );
  }
  if (types.includes('array') && s.items) {
    return nulSamples(s.items, resolve).map((x) => ({ path: `[]${x.path}`, value: [x.value] }));
  }
  return [];
}

/** `patch` laid over `base`: objects merge key by key, anything else replaces. */
function merge(base: unknown, patch: unknown): unknown {
  if (typeof base !== 'object' || base === null || Array.isArray(base)) return patch;
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) out[k] = merge(out[k], v);
  return out;
}

/** The refusal must be the NUL rule's (not some other check failing first). */
const refusedForNul = (status: number, body: any) =>
  status === 400 && body?.error?.code === 'validation_failed' && /NUL/.test(JSON.stringify(body.error));

/**
 * No text field anywhere takes a NUL character: every string of every request body, query and path
 * parameter (walked from the OpenAPI document, so a new route is covered without changing this
 * test) and of every Socket.IO message (walked from the protocol's list) is refused with
 * `validation_failed` — never a 500 from PostgreSQL, which cannot store U+0000.
 */
for (const db of testDatabases()) {
  describe(`text fields and path parameters (${db.name})`, () => {
    let t: TestPlatform;
    let admin: string;
    let viewer: string;
    let roomId: string;
    beforeAll(async () => {
      t = await startTestPlatform(db, { port: 0, rateLimitPerMinute: 100_000 });
      admin = (await t.signUpAs('Admin', 'admin')).token;
      viewer = (await t.signUp('Viewer')).token;
      const streamer = await t.signUp('Streamer', { role: 'streamer' });
      roomId = (await t.call('POST', '/api/rooms', { token: streamer.token, body: { kind: 'live', title: 'Show' } }))
        .body.id;
    });
    afterAll(() => t?.close());

    it('refuses a NUL in every string of every HTTP request with validation_failed', async () => {
      const doc = (t.platform.app as unknown as { swagger(): JsonSchema }).swagger();
      const resolve = (ref: string) =>
        ref
          .replace(/^#\//, '')
          .split('/')
          .reduce((o: JsonSchema, k) => o[k], doc);
      const refused: string[] = [];
      const accepted: string[] = [];
      const check = async (what: string, method: string, url: string, body?: unknown) => {
        const res = await t.call(method, url, { token: admin, ...(body !== undefined ? { body } : {}) });
        (refusedForNul(res.status, res.body) ? refused : accepted).push(`${what} → ${res.status}`);
      };
      for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, JsonSchema>>)) {
        for (const [method, op] of Object.entries(operations)) {
          const params: JsonSchema[] = op.parameters ?? [];
          const url = (pathValue: string) => path.replace(/\{[^}]+\}/g, pathValue);
          const validPath = url(roomId);
          for (const p of params) {
            if (nulSamples(p.schema ?? {}, resolve).length === 0) continue;
            if (p.in === 'path') await check(`${method} ${path} path ${p.name}`, method, url(encodeURIComponent(NUL)));
            if (p.in === 'query') {
              await check(`${method} ${path} ?${p.name}`, method, `${validPath}?${p.name}=${encodeURIComponent(NUL)}`);
            }
          }
          const body = op.requestBody?.content?.['application/json']?.schema;
          for (const sample of body ? nulSamples(body, resolve) : []) {
            await check(`${method} ${path} body${sample.path}`, method, validPath, sample.value);
          }
        }
      }
      expect(accepted).toEqual([]);
      // The walk found the fields named in the issue (and many more).
      for (const field of [
        'post /api/auth/register body.displayName',
        'patch /api/me body.displayName',
        'post /api/rooms body.title',
        'patch /api/rooms/{id} body.title',
        'post /api/rooms/{id}/tips body.message',
        'post /api/admin/payouts/{id}/decision body.note',
        'patch /api/admin/users/{id} path id',
        'get /api/rooms ?cursor',
      ]) {
        expect(refused.some((r) => r.startsWith(field))).toBe(true);
      }
    });

    it('answers a 300-character id in every :id route with the documented error body', async () => {
      const doc = (t.platform.app as unknown as { swagger(): JsonSchema }).swagger();
      const long = 'a'.repeat(300);
      const answers: string[] = [];
      for (const [path, operations] of Object.entries(doc.paths as Record<string, Record<string, JsonSchema>>)) {
        if (!path.includes('{')) continue;
        for (const method of Object.keys(operations)) {
          const res = await t.call(method, path.replace(/\{[^}]+\}/g, long), { token: admin, body: {} });
          const shaped =
            res.status === 400 &&
            res.body?.error?.code === 'validation_failed' &&
            typeof res.body.error.message === 'string' &&
            !res.body.error.message.includes(long) &&
            Object.keys(res.body).join() === 'error';
          answers.push(`${shaped ? 'ok' : 'BAD'} ${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`);
        }
      }
      expect(answers.length).toBeGreaterThanOrEqual(10);
      expect(answers.filter((a) => a.startsWith('BAD'))).toEqual([]);
      // WHIP/WHEP are forwarded to the SFU by a wildcard route: the SFU answers those itself.
    });

    it('refuses a NUL in every string of every Socket.IO message with validation_failed', async () => {
      const url = await t.platform.listen();
      const peer = await connectPeer(url, viewer);
      try {
        expect((await peer.emitWithAck('join', { roomId })).ok).toBe(true);
        // A valid body of each message (one per variant of a union): the NUL goes into one field of it.
        const sdp = { sdp: 'v=0', session: 's1' };
        const baselines: Record<string, Record<string, unknown>[]> = {
          join: [{ roomId }],
          signal: [
            { to: 'p1', kind: 'offer', payload: sdp },
            { to: 'p1', kind: 'answer', payload: sdp },
            { to: 'p1', kind: 'candidate', payload: { session: 's1', candidate: { candidate: 'c' } } },
          ],
          'media-state': [{ camera: false, mic: false, screen: false }],
          'replay-request': [{ peerId: 'p1' }],
          leave: [{}],
          'chat:send': [{ roomId, text: 'hi', clientId: 'c1' }],
          'chat:history': [{ roomId }],
          'chat:delete': [{ roomId, messageId: '1' }],
          'chat:react': [{ roomId, messageId: '1', emoji: '👍' }],
          'chat:moderate': ['mute', 'unmute', 'ban', 'unban'].map((action) => ({
            roomId,
            action,
            userId: 'u1',
            ...(action === 'mute' ? { durationSeconds: 60 } : {}),
          })),
          'chat:settings': [{ roomId }],
        };
        const refused: string[] = [];
        const accepted: string[] = [];
        for (const [name, schema] of Object.entries(ClientMessages)) {
          const bases = baselines[name];
          expect(bases, `a baseline body for "${name}"`).toBeDefined();
          for (const base of bases!)
            expect(schema.safeParse(base).success, `${name} ${JSON.stringify(base)}`).toBe(true);
          const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
          for (const sample of nulSamples(json, () => ({}))) {
            const value = sample.value as Record<string, unknown>;
            // The baseline of the sample's variant: the one whose literals (`kind`, `action`) it has.
            const base = bases!.find((b) =>
              Object.entries(value).every(([k, v]) => typeof v !== 'string' || v === NUL || b[k] === v),
            );
            const ack = await peer.emitWithAck(name, merge(base ?? {}, value));
            const ok = ack.ok === false && refusedForNul(400, { error: ack.error });
            (ok ? refused : accepted).push(`${name}${sample.path} → ${JSON.stringify(ack)}`);
          }
        }
        expect(accepted).toEqual([]);
        for (const field of [
          'chat:send.text',
          'join.resume',
          'signal.payload.sdp',
          'chat:moderate.reason',
          'chat:settings.blockedWords[]',
        ]) {
          expect(refused.some((r) => r.startsWith(field))).toBe(true);
        }
      } finally {
        peer.close();
      }
    });
  });
}
