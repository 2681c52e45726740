import type { ChatMessage, ChatMessageId, ChatReaction, ChatTipEvent } from '@fusionflow/protocol';
import type { ChatTimelineEntry, ChatTipItem } from './chat-snapshot.js';

/** Decimal ids, without leading zeros: compare by length, then text. */
export function compareMessageIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

export interface ChatTimelineOptions {
  /** Messages kept while new ones arrive (older ones can be loaded again; default 500). */
  maxMessages?: number;
  /** Tips kept (default 50). */
  maxTips?: number;
  /** A message left the timeline (deleted, trimmed, missing from history). */
  onForget?: (id: ChatMessageId) => void;
  /** Ms since the epoch (tests). */
  now?: () => number;
}

interface Entry {
  message: ChatMessage;
  showOriginal: boolean;
  reactions: Map<ChatReaction, { count: number; mine: boolean }>;
}

/** What one message did to the timeline. */
export interface ChatUpsert {
  message: ChatMessage;
  /** New to the timeline (not a message seen again). */
  added: boolean;
}

/**
 * The messages of one room in id order, each once: a message that arrives live and again in a history page
 * (or twice live) is one entry, updated. History pages are reconciled with what is shown: the newest page is
 * the truth for its range (what is missing was deleted meanwhile), older pages add. Also keeps the tips,
 * reactions and the reader's "show the original" choice of each message.
 */
export class ChatTimeline {
  readonly #o: ChatTimelineOptions;
  readonly #entries = new Map<ChatMessageId, Entry>();
  #sorted: ChatMessageId[] | null = [];
  #tips: ChatTipItem[] = [];
  #tipSeq = 0;
  #hasMore = false;
  #historyLoaded = false;

  constructor(options: ChatTimelineOptions = {}) {
    this.#o = options;
  }

  /** Older messages than the oldest shown can be loaded. */
  get hasMore(): boolean {
    return this.#hasMore;
  }

  /** A history page has been applied at least once. */
  get historyLoaded(): boolean {
    return this.#historyLoaded;
  }

  get size(): number {
    return this.#entries.size;
  }

  has(id: ChatMessageId): boolean {
    return this.#entries.has(id);
  }

  message(id: ChatMessageId): ChatMessage | undefined {
    return this.#entries.get(id)?.message;
  }

  /** Ids, oldest first. */
  ids(): readonly ChatMessageId[] {
    this.#sorted ??= [...this.#entries.keys()].sort(compareMessageIds);
    return this.#sorted;
  }

  oldestId(): ChatMessageId | undefined {
    return this.ids()[0];
  }

  /** The entries, oldest first, as copies the caller may keep (a snapshot's input). */
  entries(): ChatTimelineEntry[] {
    return this.ids().map((id) => {
      const e = this.#entries.get(id)!;
      return { message: e.message, showOriginal: e.showOriginal, reactions: new Map(e.reactions) };
    });
  }

  tips(): readonly ChatTipItem[] {
    return this.#tips;
  }

  /** The reader gave this reaction. */
  reactedWith(id: ChatMessageId, emoji: ChatReaction): boolean {
    return this.#entries.get(id)?.reactions.get(emoji)?.mine ?? false;
  }

  /** Add a message or update the one with its id (its reaction counts come from the server with it). */
  upsert(message: ChatMessage, from: 'live' | 'history'): ChatUpsert {
    const reactions = new Map(message.reactions.map((r) => [r.emoji, { count: r.count, mine: r.mine }]));
    const current = this.#entries.get(message.id);
    if (current) {
      current.message = { ...message, translation: message.translation ?? current.message.translation };
      current.reactions = reactions;
      return { message: current.message, added: false };
    }
    this.#entries.set(message.id, { message, showOriginal: false, reactions });
    this.#sorted = null;
    if (from === 'live') this.#trim();
    return { message, added: true };
  }

  /**
   * Apply a `chat:history` page (any order): `before` undefined for the newest page. Returns what each
   * message did, oldest first.
   */
  applyHistory(page: readonly ChatMessage[], hasMore: boolean, before: ChatMessageId | undefined): ChatUpsert[] {
    const messages = [...page].sort((a, b) => compareMessageIds(a.id, b.id));
    const first = messages[0]?.id;
    const last = messages.at(-1)?.id;
    const olderKnown = first !== undefined && this.ids().some((id) => compareMessageIds(id, first) < 0);
    if (before === undefined && first !== undefined && last !== undefined) {
      // The newest page is the truth for its range: what is missing from it was deleted meanwhile.
      const present = new Set<ChatMessageId>(messages.map((m) => m.id));
      for (const id of [...this.ids()]) {
        if (compareMessageIds(id, first) >= 0 && compareMessageIds(id, last) <= 0 && !present.has(id)) {
          this.#forget(id);
        }
      }
    } else if (before === undefined && !hasMore) {
      // An empty room as far as history goes: everything shown was deleted (live ones came after the answer).
      for (const id of [...this.ids()]) if (!this.#isRecent(id)) this.#forget(id);
    }
    const result = messages.map((m) => this.upsert(m, 'history'));
    if (before !== undefined || !olderKnown) this.#hasMore = hasMore;
    this.#historyLoaded = true;
    return result;
  }

  /** A message was deleted; false when it was not shown. */
  remove(id: ChatMessageId): boolean {
    if (!this.#entries.has(id)) return false;
    this.#forget(id);
    return true;
  }

  /** A reaction's count (and whether the reader gave it, when known); false when the message is not shown. */
  setReaction(id: ChatMessageId, emoji: ChatReaction, count: number, mine: boolean | undefined): boolean {
    const e = this.#entries.get(id);
    if (!e) return false;
    const current = e.reactions.get(emoji);
    if (count <= 0) e.reactions.delete(emoji);
    else e.reactions.set(emoji, { count, mine: mine ?? current?.mine ?? false });
    return true;
  }

  /** Show the original instead of the translation, or back; false when the message is not shown. */
  toggleOriginal(id: ChatMessageId): boolean {
    const e = this.#entries.get(id);
    if (!e) return false;
    e.showOriginal = !e.showOriginal;
    return true;
  }

  addTip(e: ChatTipEvent): ChatTipItem {
    const tip: ChatTipItem = {
      kind: 'tip',
      key: `tip-${++this.#tipSeq}`,
      from: e.from,
      amount: e.amount,
      ...(e.message ? { message: e.message } : {}),
      at: e.at,
    };
    this.#tips = [...this.#tips, tip].slice(-(this.#o.maxTips ?? 50));
    return tip;
  }

  /** A message that may have been stored after the history page was read (sent in the last 5 s). */
  #isRecent(id: ChatMessageId): boolean {
    const e = this.#entries.get(id);
    return !!e && (this.#o.now ?? Date.now)() - Date.parse(e.message.sentAt) < 5000;
  }

  /** Keep at most `maxMessages` as new ones arrive: the oldest go (and can be loaded again). */
  #trim(): void {
    const max = this.#o.maxMessages ?? 500;
    if (this.#entries.size <= max) return;
    const ids = this.ids();
    for (const id of ids.slice(0, ids.length - max)) this.#forget(id);
    this.#hasMore = true;
  }

  #forget(id: ChatMessageId): void {
    if (!this.#entries.delete(id)) return;
    this.#sorted = null;
    this.#o.onForget?.(id);
  }
}
