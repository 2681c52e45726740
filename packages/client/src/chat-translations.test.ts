import { asChatMessageId, asRoomId, asUserId, type ChatMessage, type ChatTranslation } from '@fusionflow/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatTranslations } from './chat-translations.js';

function message(id: number, over: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id: asChatMessageId(id),
    roomId: asRoomId('room-1'),
    clientId: `c${id}`,
    author: { userId: asUserId('u1'), displayName: 'Sam', moderator: false },
    language: 'en',
    text: `hello ${id}`,
    sentAt: '2026-01-01T00:00:00.000Z',
    reactions: [],
    ...over,
  };
}

const es = (text: string): ChatTranslation => ({ language: 'es', status: 'ok', text });

function setup(o: { reader?: string; engine?: boolean; timeoutMs?: number } = {}) {
  let reader: string | undefined = 'reader' in o ? o.reader : 'es';
  let engine: boolean | undefined = o.engine;
  let timeouts = 0;
  const translations = new ChatTranslations({
    readerLanguage: () => reader,
    engineAvailable: () => engine,
    timeoutMs: o.timeoutMs ?? 1000,
    onTimeout: () => {
      timeouts += 1;
    },
  });
  return {
    translations,
    timeouts: () => timeouts,
    setReader: (l: string | undefined) => {
      reader = l;
    },
    setEngine: (v: boolean | undefined) => {
      engine = v;
    },
  };
}

let open: ChatTranslations[] = [];
afterEach(() => {
  for (const t of open) t.close();
  open = [];
  vi.useRealTimers();
});

describe('ChatTranslations', () => {
  it('a translation after its message replaces the pending view', () => {
    const { translations } = setup();
    open.push(translations);
    const m = message(1);
    translations.track(m, 'live', true);
    expect(translations.view(m.id)).toEqual({ status: 'pending' });
    expect(translations.receive(m.id, es('hola 1'), m)).toBe(true);
    expect(translations.view(m.id)).toEqual({ status: 'ok', text: 'hola 1' });
    // A later answer in the reader's language replaces it.
    expect(translations.receive(m.id, { language: 'es', status: 'unsupported' }, m)).toBe(true);
    expect(translations.view(m.id)).toEqual({ status: 'unsupported' });
  });

  it('a translation before its message is kept per language and merged when the message comes', () => {
    const { translations } = setup();
    open.push(translations);
    const m = message(2);
    expect(translations.receive(m.id, { language: 'fr', status: 'ok', text: 'bonjour' }, undefined)).toBe(false);
    expect(translations.receive(m.id, es('hola 2'), undefined)).toBe(false);
    // A later one in another language does not push the reader's out.
    expect(translations.receive(m.id, { language: 'de', status: 'ok', text: 'hallo' }, undefined)).toBe(false);
    expect(translations.earlyCount).toBe(3);
    translations.track(m, 'live', true);
    expect(translations.view(m.id)).toEqual({ status: 'ok', text: 'hola 2' });
    expect(translations.earlyCount).toBe(0);
  });

  it('ignores translations in other languages and into the message’s own language', () => {
    const { translations } = setup();
    open.push(translations);
    const m = message(3);
    translations.track(m, 'live', true);
    expect(translations.receive(m.id, { language: 'fr', status: 'ok', text: 'bonjour' }, m)).toBe(false);
    expect(translations.view(m.id)).toEqual({ status: 'pending' });
    const own = message(4, { language: 'es' });
    translations.track(own, 'live', true);
    expect(translations.view(own.id)).toEqual({ status: 'original' });
    expect(translations.receive(own.id, es('x'), own)).toBe(false);
  });

  it('history: the translation it carries shows; without one nothing more is coming', () => {
    const { translations } = setup();
    open.push(translations);
    const withOne = message(5, { translation: es('hola 5') });
    translations.track(withOne, 'history', true);
    expect(translations.view(withOne.id)).toEqual({ status: 'ok', text: 'hola 5' });
    const without = message(6);
    translations.track(without, 'history', true);
    expect(translations.view(without.id)).toEqual({ status: 'unavailable' });
    // A live translation that came first is not replaced by the history copy.
    const live = message(7);
    translations.track(live, 'live', true);
    translations.receive(live.id, es('hola nuevo'), live);
    translations.track({ ...live, translation: es('hola viejo') }, 'history', false);
    expect(translations.view(live.id)).toEqual({ status: 'ok', text: 'hola nuevo' });
  });

  it('a translation that never comes is unavailable after the timeout; engine down says so at once', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { translations, timeouts, setEngine } = setup({ timeoutMs: 1000 });
    open.push(translations);
    const a = message(1);
    translations.track(a, 'live', true);
    vi.advanceTimersByTime(999);
    expect(translations.view(a.id).status).toBe('pending');
    vi.advanceTimersByTime(1);
    expect(translations.view(a.id).status).toBe('unavailable');
    expect(timeouts()).toBe(1);
    const b = message(2);
    translations.track(b, 'live', true);
    translations.engineDown();
    expect(translations.view(b.id).status).toBe('unavailable');
    setEngine(false);
    const c = message(3);
    translations.track(c, 'live', true);
    expect(translations.view(c.id).status).toBe('unavailable');
    vi.advanceTimersByTime(5000);
    expect(timeouts()).toBe(1);
  });

  it('forget and close clear timers; an unknown reader language shows originals', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { translations, timeouts } = setup();
    const a = message(1);
    translations.track(a, 'live', true);
    translations.receive(asChatMessageId(9), es('hola 9'), undefined);
    translations.forget(a.id);
    translations.forget(asChatMessageId(9));
    expect(translations.earlyCount).toBe(0);
    const b = message(2);
    translations.track(b, 'live', true);
    translations.close();
    vi.advanceTimersByTime(10_000);
    expect(timeouts()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);

    const none = setup({ reader: undefined });
    open.push(none.translations);
    none.translations.track(message(3), 'live', true);
    expect(none.translations.view(asChatMessageId(3))).toEqual({ status: 'original' });
  });
});
