import { type ChatMessage, type ChatMessageId, type ChatTranslation, sameLanguage } from '@fusionflow/protocol';
import type { ChatTranslationView } from './chat-snapshot.js';

export interface ChatTranslationsOptions {
  /** The reader's language now (`chat:state`'s, or the one asked for in `join`); undefined: not known yet. */
  readerLanguage: () => string | undefined;
  /** False once the server said no translation is coming (no engine, or its breaker is open); undefined: not said yet. */
  engineAvailable: () => boolean | undefined;
  /** A translation not here this long after its message counts as unavailable, ms (default 15 s). */
  timeoutMs?: number;
  /** A timer changed a view (a translation that never came). */
  onTimeout: () => void;
  /** Translations kept for messages not seen yet (default 500). */
  maxEarly?: number;
}

interface Tracked {
  view: ChatTranslationView;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * How each message reads in the reader's language: translations merge whenever they come — with the
 * message (history), after it (`chat:translation`), or before it (kept per message and language until
 * the message arrives). A translation that does not come in time counts as unavailable.
 */
export class ChatTranslations {
  readonly #o: ChatTranslationsOptions;
  readonly #views = new Map<ChatMessageId, Tracked>();
  /** Translations that came before their message, per message and language. */
  readonly #early = new Map<ChatMessageId, Map<string, ChatTranslation>>();
  #closed = false;

  constructor(options: ChatTranslationsOptions) {
    this.#o = options;
  }

  /** How a message reads now (`original` for one not tracked). */
  view(id: ChatMessageId): ChatTranslationView {
    return this.#views.get(id)?.view ?? { status: 'original' };
  }

  /** Translations waiting for their message. */
  get earlyCount(): number {
    let n = 0;
    for (const byLanguage of this.#early.values()) n += byLanguage.size;
    return n;
  }

  /**
   * A message entered the timeline (`added`) or came again: set its first view and start waiting for
   * its translation, then merge what came early and what the message carries.
   */
  track(message: ChatMessage, from: 'live' | 'history', added: boolean): void {
    let t = this.#views.get(message.id);
    if (!t || added) {
      if (t) clearTimeout(t.timer);
      t = { view: this.#initial(message, from), timer: undefined };
      this.#views.set(message.id, t);
      if (t.view.status === 'pending' && !this.#closed) this.#startTimer(message.id, t);
    }
    const early = this.#takeEarly(message.id);
    if (early) this.#apply(message, t, early);
    if (message.translation) this.#apply(message, t, message.translation, true);
  }

  /**
   * A translation arrived. With its message known (`message`), it is merged and true returned when the view
   * changed; otherwise it is kept until the message comes.
   */
  receive(messageId: ChatMessageId, translation: ChatTranslation, message: ChatMessage | undefined): boolean {
    const t = message ? this.#views.get(messageId) : undefined;
    if (!message || !t) {
      let byLanguage = this.#early.get(messageId);
      if (!byLanguage) {
        byLanguage = new Map();
        this.#early.set(messageId, byLanguage);
      }
      byLanguage.set(translation.language, translation);
      const max = this.#o.maxEarly ?? 500;
      while (this.#early.size > max) this.#early.delete(this.#early.keys().next().value!);
      return false;
    }
    const before = t.view;
    this.#apply(message, t, translation);
    return t.view !== before;
  }

  /** The server said nothing more is coming: what waits becomes unavailable now rather than after the timeout. */
  engineDown(): void {
    for (const t of this.#views.values()) {
      if (t.view.status !== 'pending') continue;
      clearTimeout(t.timer);
      t.timer = undefined;
      t.view = { status: 'unavailable' };
    }
  }

  /** The message left the timeline (deleted, trimmed): its view, timer and early translations go. */
  forget(id: ChatMessageId): void {
    const t = this.#views.get(id);
    if (t) clearTimeout(t.timer);
    this.#views.delete(id);
    this.#early.delete(id);
  }

  /** Clears every timer. Idempotent. */
  close(): void {
    this.#closed = true;
    for (const t of this.#views.values()) clearTimeout(t.timer);
  }

  #initial(message: ChatMessage, from: 'live' | 'history'): ChatTranslationView {
    const reader = this.#o.readerLanguage();
    if (!reader || sameLanguage(reader, message.language)) return { status: 'original' };
    if (message.translation) return { status: 'pending' };
    if (this.#o.engineAvailable() === false) return { status: 'unavailable' };
    // History has what was translated while it was live; nothing more comes for older messages.
    return from === 'live' ? { status: 'pending' } : { status: 'unavailable' };
  }

  #startTimer(id: ChatMessageId, t: Tracked): void {
    const timer = setTimeout(() => {
      if (t.view.status !== 'pending' || this.#views.get(id) !== t) return;
      t.view = { status: 'unavailable' };
      t.timer = undefined;
      this.#o.onTimeout();
    }, this.#o.timeoutMs ?? 15_000);
    (timer as { unref?: () => void }).unref?.();
    t.timer = timer;
  }

  /** The early translation in the reader's language (the others are dropped with it). */
  #takeEarly(id: ChatMessageId): ChatTranslation | undefined {
    const byLanguage = this.#early.get(id);
    if (!byLanguage) return undefined;
    this.#early.delete(id);
    const reader = this.#o.readerLanguage();
    if (!reader) return [...byLanguage.values()].at(-1);
    for (const [language, t] of byLanguage) if (sameLanguage(language, reader)) return t;
    return undefined;
  }

  #apply(message: ChatMessage, t: Tracked, translation: ChatTranslation, fromHistory = false): void {
    const reader = this.#o.readerLanguage();
    if (reader && !sameLanguage(translation.language, reader)) return;
    if (sameLanguage(translation.language, message.language)) return;
    if (fromHistory && t.view.status === 'ok') return;
    clearTimeout(t.timer);
    t.timer = undefined;
    if (translation.status === 'ok' && translation.text !== undefined)
      t.view = { status: 'ok', text: translation.text };
    else if (translation.status === 'ok') t.view = { status: 'unavailable' };
    else t.view = { status: translation.status };
  }
}
