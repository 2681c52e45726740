import type { ChatModerationEvent, ChatStateEvent } from '@fusionflow/protocol';
import type { ChatRestriction, ChatSelf } from './chat-snapshot.js';

export interface ChatRoomRulesOptions {
  /** Who the reader is (from `joined`). */
  self: () => ChatSelf | null;
  /** A timer changed the rules (the reader's mute ran out). */
  onExpire: () => void;
  now?: () => number;
}

/**
 * The room's chat rules as this reader sees them: the server's `chat:state` (language, engine, what the
 * reader may do, slow mode, blocked words), updated by `chat:settings` and by the moderation events seen
 * (mutes and bans of others, and of the reader, whose mute lifts by itself when it runs out).
 */
export class ChatRoomRules {
  readonly #o: ChatRoomRulesOptions;
  readonly #restrictions = new Map<string, ChatRestriction>();
  #state: ChatStateEvent | null = null;
  #muteTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  constructor(options: ChatRoomRulesOptions) {
    this.#o = options;
  }

  /** The last `chat:state` with what changed since; null before the first. */
  get state(): ChatStateEvent | null {
    return this.#state;
  }

  /** Restrictions seen per user id. */
  get restrictions(): ReadonlyMap<string, ChatRestriction> {
    return this.#restrictions;
  }

  /** The server's chat state for the reader. True when translation is off (no engine, or its breaker is open). */
  setState(state: ChatStateEvent): boolean {
    this.#state = state;
    this.#scheduleUnmute(state.mutedUntil);
    return state.engine === 'none' || !state.translationAvailable;
  }

  /** Slow mode and (for moderators) the blocked words changed; false before any `chat:state`. */
  setSettings(slowModeSeconds: number, blockedWords: string[] | undefined): boolean {
    if (!this.#state) return false;
    this.#state = { ...this.#state, slowModeSeconds, ...(blockedWords ? { blockedWords } : {}) };
    return true;
  }

  /** A moderation event: the user's restriction, and the reader's own right to send when it is about them. */
  moderation(e: ChatModerationEvent): void {
    const self = this.#o.self();
    const next: ChatRestriction = { ...this.#restrictions.get(e.userId) };
    if (e.action === 'mute') next.mutedUntil = e.until;
    if (e.action === 'unmute') delete next.mutedUntil;
    if (e.action === 'ban') next.banned = true;
    if (e.action === 'unban') delete next.banned;
    if (next.mutedUntil === undefined && !next.banned) this.#restrictions.delete(e.userId);
    else this.#restrictions.set(e.userId, next);
    if (!self || e.userId !== self.userId || !this.#state || this.#state.canModerate) return;
    if (e.action === 'mute' && e.until) {
      this.#state = { ...this.#state, canSend: false, mutedUntil: e.until };
      this.#scheduleUnmute(e.until);
    } else if (e.action === 'unmute') {
      this.#unmute();
      clearTimeout(this.#muteTimer);
    }
  }

  /** Clears the timer. Idempotent. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#muteTimer);
  }

  #unmute(): void {
    if (!this.#state) return;
    const { mutedUntil: _, ...rest } = this.#state;
    this.#state = { ...rest, canSend: !this.#o.self()?.guest };
  }

  #scheduleUnmute(until: string | undefined): void {
    clearTimeout(this.#muteTimer);
    if (!until || this.#closed) return;
    const wait = Date.parse(until) - (this.#o.now ?? Date.now)();
    if (!(wait > 0)) return;
    this.#muteTimer = setTimeout(
      () => {
        if (!this.#state || this.#state.mutedUntil !== until) return;
        this.#unmute();
        this.#o.onExpire();
      },
      Math.min(wait + 250, 2 ** 31 - 1),
    );
    (this.#muteTimer as { unref?: () => void }).unref?.();
  }
}
