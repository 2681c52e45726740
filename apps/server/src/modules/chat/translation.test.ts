import { randomUUID } from 'node:crypto';
import { createLogger, createMetricsRegistry } from '@fusionflow/kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../../db/database.js';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { connectPeer, type TestPeer } from '../signaling/test-signaling.js';
import { ApertiumEngine } from './apertium-engine.js';
import { textHash } from './chat-store.js';
import { LibreTranslateEngine } from './libretranslate-engine.js';
import { type Apertium, apertiumFor, freeTcpPort, startApertium } from './test-apertium.js';
import { type LibreTranslateServer, startLibreTranslate } from './test-libretranslate.js';
import type { TranslationEngine } from './translation-engine.js';
import { Translator, type TranslatorOptions } from './translator.js';

// The engine's answers do not depend on the database: the embedded one keeps the suite lean.
const db = testDatabases()[0]!;
const logger = createLogger({ level: 'silent', name: 'test' });

/** Words that show a text is Spanish (or English) without pinning Apertium's exact output. */
const SPANISH = /\b(la|el|es|casa|grande|amigo|hola|perro|gato|muy)\b/i;
const ENGLISH = /\b(the|is|house|big|friend|hello|dog|cat|very)\b/i;

/** What each part needs installed: checked here, so a missing pair skips (or fails in CI) by name. */
const englishSpanish = apertiumFor(['en|es', 'es|en']);
const englishCatalan = englishSpanish.ok ? apertiumFor(['en|ca']) : englishSpanish;
const skipped = (check: { ok: boolean; reason: string }) => (check.ok ? '' : ` (skipped: ${check.reason})`);

describe.runIf(englishSpanish.ok)(`translation with a real Apertium APy${skipped(englishSpanish)}`, () => {
  let apy: Apertium;
  let libre: LibreTranslateServer;
  let database: DatabaseHandle;
  const translators: Translator[] = [];

  beforeAll(async () => {
    apy = await startApertium();
    libre = await startLibreTranslate(apy.url);
    database = await db.open();
  }, 60_000);
  afterAll(async () => {
    for (const tr of translators) tr.close();
    await database?.close();
    await libre?.close();
    await apy?.stop();
  });
  afterEach(() => {
    libre.behaviour = {};
  });

  const translator = (engine: TranslationEngine | undefined, o: Partial<TranslatorOptions> = {}) => {
    const tr = new Translator({
      ...(engine ? { engine } : {}),
      db: database.db,
      timeoutMs: 5000,
      breakerFailures: 3,
      breakerCooldownMs: 60_000,
      cacheEntries: 100,
      concurrency: 4,
      maxQueue: 100,
      pairsRefreshMs: 60_000,
      metrics: createMetricsRegistry({ defaultMetrics: false }),
      logger,
      ...o,
    });
    translators.push(tr);
    return tr;
  };
  const ask = (tr: Translator, source: string, target: string, text: string) =>
    tr.translate(source, target, text, textHash(text));

  it('Apertium: translates real sentences both ways, and reports a pair it lacks instead of faking it', async () => {
    const tr = translator(new ApertiumEngine(apy.url));
    const pairs = await tr.pairs();
    expect(pairs).toContainEqual({ source: 'en', target: 'es' });
    expect(pairs).toContainEqual({ source: 'es', target: 'en' });

    const text = `The house is very big, my friend ${randomUUID().slice(0, 4)}`;
    const es = await ask(tr, 'en', 'es', text);
    expect(es.status).toBe('ok');
    if (es.status !== 'ok') return;
    expect(es.text).not.toBe(text);
    expect(es.text).toMatch(SPANISH);
    expect(es.text).toMatch(/casa/i);

    const en = await ask(tr, 'es', 'en', `El perro es muy grande ${randomUUID().slice(0, 4)}`);
    expect(en).toMatchObject({ status: 'ok' });
    if (en.status === 'ok') expect(en.text).toMatch(/\bdog\b/i);

    const before = tr.engineRequests;
    expect(await ask(tr, 'en', 'ja', 'Hello')).toEqual({ status: 'unsupported' });
    expect(tr.engineRequests).toBe(before);
    // Regional variants read the base language's pair; the same language needs no engine.
    expect(await ask(tr, 'en', 'es-MX', 'The dog')).toMatchObject({ status: 'ok' });
    expect(await ask(tr, 'en', 'en', 'Hello')).toEqual({ status: 'ok', text: 'Hello', cached: true });
  });

  it('LibreTranslate client: translates through the documented contract, with an api_key', async () => {
    libre.behaviour = { apiKey: 'k-123' };
    const withKey = translator(new LibreTranslateEngine(libre.url, 'k-123'));
    expect(await withKey.pairs()).toContainEqual({ source: 'en', target: 'es' });
    const out = await ask(withKey, 'en', 'es', `Hello my friend, the cat is big ${randomUUID().slice(0, 4)}`);
    expect(out.status).toBe('ok');
    if (out.status === 'ok') expect(out.text).toMatch(SPANISH);

    const wrongKey = translator(new LibreTranslateEngine(libre.url, 'nope'));
    expect(await ask(wrongKey, 'en', 'es', 'Hello')).toEqual({ status: 'unavailable', reason: 'error' });
    expect(await ask(withKey, 'en', 'de', 'Hello')).toEqual({ status: 'unsupported' });
  });

  it('asks the engine once per pair and text: memory cache, then the database cache of another process', async () => {
    const text = `The big house of my friend ${randomUUID()}`;
    const first = translator(new LibreTranslateEngine(libre.url));
    const before = libre.translateRequests;
    // Ten readers at once: one request.
    const answers = await Promise.all(Array.from({ length: 10 }, () => ask(first, 'en', 'es', text)));
    expect(new Set(answers.map((a) => (a.status === 'ok' ? a.text : a.status))).size).toBe(1);
    expect(libre.translateRequests - before).toBe(1);
    expect(await ask(first, 'en', 'es', text)).toMatchObject({ status: 'ok', cached: true });
    // A second process (empty memory) finds it in the database.
    const second = translator(new LibreTranslateEngine(libre.url));
    expect(await ask(second, 'en', 'es', text)).toMatchObject({ status: 'ok', cached: true });
    expect(libre.translateRequests - before).toBe(1);
  });

  it('time-limits a slow engine and stops calling a failing one (circuit breaker)', async () => {
    libre.behaviour = { delayMs: 400 };
    const slow = translator(new LibreTranslateEngine(libre.url), { timeoutMs: 150 });
    await slow.pairs();
    expect(await ask(slow, 'en', 'es', `slow ${randomUUID()}`)).toEqual({ status: 'unavailable', reason: 'timeout' });

    libre.behaviour = { fail: true };
    const failing = translator(new LibreTranslateEngine(libre.url), { breakerFailures: 2 });
    await failing.pairs();
    for (let i = 0; i < 2; i++) {
      expect(await ask(failing, 'en', 'es', `fail ${i} ${randomUUID()}`)).toEqual({
        status: 'unavailable',
        reason: 'error',
      });
    }
    expect(failing.available).toBe(false);
    const before = libre.translateRequests;
    expect(await ask(failing, 'en', 'es', `open ${randomUUID()}`)).toEqual({
      status: 'unavailable',
      reason: 'breaker_open',
    });
    expect(libre.translateRequests).toBe(before);

    // An engine that is not there at all.
    const down = translator(new ApertiumEngine(`http://127.0.0.1:${await freeTcpPort()}`), { breakerFailures: 1 });
    expect(await ask(down, 'en', 'es', 'Hello')).toMatchObject({ status: 'unavailable' });
    expect(down.available).toBe(false);
    // No engine configured.
    expect(await ask(translator(undefined), 'en', 'es', 'Hello')).toEqual({
      status: 'unavailable',
      reason: 'no_engine',
    });
  });

  describe('in a room', () => {
    let t: TestPlatform;
    let url: string;
    const open: TestPeer[] = [];
    beforeAll(async () => {
      t = await startTestPlatform(db, {
        port: 0,
        translationEngine: 'libretranslate',
        translationUrl: libre.url,
        // A pair's first request starts an Apertium pipeline: allow for it on a busy machine.
        translationTimeoutMs: 10_000,
      });
      url = await t.platform.listen();
    });
    afterEach(() => {
      for (const p of open.splice(0)) p.close();
    });
    afterAll(async () => {
      await t?.close();
    });

    const enter = async (token: string, roomId: string, language: string) => {
      const p = await connectPeer(url, token);
      open.push(p);
      p.emit('join', { roomId, language });
      await p.next('joined');
      return { p, state: await p.next('chat:state') };
    };

    const liveRoom = async (title: string) => {
      const owner = await t.signUp(title, { role: 'streamer' });
      const roomId = (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title } })).body
        .id as string;
      return { owner, roomId };
    };

    it('translates each message once per language read in the room, to that language’s readers only', async () => {
      const { owner, roomId } = await liveRoom('Hola');
      const { p: en, state } = await enter(owner.token, roomId, 'en');
      expect(state).toMatchObject({ engine: 'libretranslate', translationAvailable: true });
      const spanish = await Promise.all(
        [1, 2, 3].map(async (i) => (await enter((await t.signUp(`Es${i}`)).token, roomId, 'es')).p),
      );
      const { p: en2 } = await enter((await t.signUp('En2')).token, roomId, 'en');

      const before = libre.translateRequests;
      const text = `Hello my friend, the house is big ${randomUUID().slice(0, 6)}`;
      const ack = await en.emitWithAck('chat:send', { roomId, text, clientId: randomUUID() });
      expect(ack.ok).toBe(true);
      const id = ack.message.id;
      for (const p of spanish) {
        expect(await p.next('chat:message')).toMatchObject({ id, text, language: 'en' });
        const tr = await p.next('chat:translation');
        expect(tr).toMatchObject({ roomId, messageId: id, language: 'es', status: 'ok' });
        expect(tr.text).not.toBe(text);
        expect(tr.text).toMatch(/casa/i);
      }
      await t.platform.services.chat.settled();
      // One request for Spanish, however many Spanish readers there are.
      expect(libre.translateRequests - before).toBe(1);
      expect(en2.pending('chat:translation')).toEqual([]);
      expect(en.pending('chat:translation')).toEqual([]);

      // A Spanish reader's message reaches the English readers translated; history carries it.
      const reply = await spanish[0]!.emitWithAck('chat:send', {
        roomId,
        text: 'La casa es muy grande',
        clientId: 'r1',
      });
      const english = await en.next('chat:translation', (m) => m.messageId === reply.message.id);
      expect(english.text).toMatch(ENGLISH);
      expect(english.text).toMatch(/house/i);
      const history = await en.emitWithAck('chat:history', { roomId });
      expect(history.messages.at(-1)).toMatchObject({
        text: 'La casa es muy grande',
        translation: { language: 'en', status: 'ok', text: english.text },
      });

      // Metrics: translations by engine and outcome, latency, cache.
      const metrics = await t.platform.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(/chat_translations_total\{engine="libretranslate",outcome="ok"\} [1-9]/);
      expect(metrics.body).toMatch(/chat_translation_duration_seconds_count\{engine="libretranslate"\} [1-9]/);
      expect(metrics.body).toMatch(/chat_messages_total\{result="stored"\} 2/);
      expect(metrics.body).toContain('chat_translation_cache_hit_ratio');
    });

    it.runIf(englishCatalan.ok)(
      `one request per language: Spanish and Catalan readers of one message${skipped(englishCatalan)}`,
      async () => {
        const { owner, roomId } = await liveRoom('Bon dia');
        const { p: en } = await enter(owner.token, roomId, 'en');
        const spanish = await Promise.all(
          [1, 2].map(async (i) => (await enter((await t.signUp(`Sp${i}`)).token, roomId, 'es')).p),
        );
        const { p: ca } = await enter((await t.signUp('Cat')).token, roomId, 'ca');
        const before = libre.translateRequests;
        const text = `Hello my friend, the house is big ${randomUUID().slice(0, 6)}`;
        const ack = await en.emitWithAck('chat:send', { roomId, text, clientId: randomUUID() });
        const id = ack.message.id;
        for (const p of spanish)
          expect(await p.next('chat:translation')).toMatchObject({ messageId: id, status: 'ok' });
        const catalan = await ca.next('chat:translation');
        expect(catalan).toMatchObject({ messageId: id, language: 'ca', status: 'ok' });
        expect(catalan.text).toMatch(/\b(la|és|casa|gran|amic)\b/i);
        await t.platform.services.chat.settled();
        // es and ca: two requests, however many Spanish readers there are.
        expect(libre.translateRequests - before).toBe(2);
        expect(ca.pending('chat:translation')).toEqual([]);
      },
    );

    it('translates history for a reader whose language nobody read when it was sent', async () => {
      const owner = await t.signUp('Late', { role: 'streamer' });
      const roomId = (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title: 'L' } }))
        .body.id as string;
      const { p: en } = await enter(owner.token, roomId, 'en');
      const text = `The cat is in the house ${randomUUID().slice(0, 6)}`;
      const ack = await en.emitWithAck('chat:send', { roomId, text, clientId: 'early' });
      await t.platform.services.chat.settled();
      const { p: es } = await enter((await t.signUp('Tarde')).token, roomId, 'es-MX');
      const order: string[] = [];
      es.socket.onAny((name: string) => order.push(name));
      const history = await es.emitWithAck('chat:history', { roomId });
      expect(history.messages.map((m: { id: string }) => m.id)).toEqual([ack.message.id]);
      expect(history.messages[0].translation).toBeUndefined();
      const later = await es.next('chat:translation');
      expect(later).toMatchObject({ roomId, messageId: ack.message.id, language: 'es-MX', status: 'ok' });
      expect(later.text).toMatch(/casa/i);
      // Asked once; the next reader's history has it from the cache.
      const again = await es.emitWithAck('chat:history', { roomId });
      expect(again.messages[0].translation).toEqual({ language: 'es-MX', status: 'ok', text: later.text });
    });

    it('never holds a message back for a failing engine: the original first, then "unavailable"', async () => {
      libre.behaviour = { fail: true };
      const owner = await t.signUp('Slow', { role: 'streamer' });
      const roomId = (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title: 'S' } }))
        .body.id as string;
      const { p: en } = await enter(owner.token, roomId, 'en');
      const { p: es } = await enter((await t.signUp('Lento')).token, roomId, 'es');
      const order: string[] = [];
      es.socket.onAny((name: string) => order.push(name));
      const ack = await en.emitWithAck('chat:send', { roomId, text: `The dog ${randomUUID()}`, clientId: 'slow-1' });
      expect(ack.ok).toBe(true);
      expect(await es.next('chat:message')).toMatchObject({ id: ack.message.id });
      const late = await es.next('chat:translation');
      expect(late).toEqual({ roomId, messageId: ack.message.id, language: 'es', status: 'unavailable' });
      expect(order).toEqual(['chat:message', 'chat:translation']);
      const stored = await t.database.db
        .selectFrom('chat_messages')
        .select('id')
        .where('room_id', '=', roomId)
        .execute();
      expect(stored).toHaveLength(1);
    });
  });
});
