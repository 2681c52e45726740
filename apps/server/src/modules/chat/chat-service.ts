import {
  AppError,
  Counter,
  forbidden,
  type Logger,
  MemoryRateLimiter,
  type Registry,
  unavailable,
} from '@fusionflow/kit';
import {
  ChatDeleteRequest,
  ChatHistoryRequest,
  type ChatHistoryResult,
  type ChatMessage,
  type ChatMessageId,
  ChatModerateRequest,
  ChatReactRequest,
  ChatSendMessage,
  type ChatSendResult,
  ChatSettingsRequest,
  type ChatStateEvent,
  ErrorCode,
  type Room,
  type RoomId,
  sameLanguage,
  type Tip,
  type UserId,
} from '@fusionflow/protocol';
import { LRUCache } from 'lru-cache';
import type { Session } from '../identity/access-tokens.js';
import type { RealtimeGateway, SocketContext } from '../realtime/realtime-gateway.js';
import type { RoomPresence } from '../realtime/room-presence.js';
import type { RoomService } from '../rooms/room-service.js';
import { ChatFanout } from './chat-fanout.js';
import type { ChatModeration, Restrictions } from './chat-moderation.js';
import type { ChatRules } from './chat-rules.js';
import { type ChatReader, type ChatStore, textHash } from './chat-store.js';
import type { Translator } from './translator.js';

/** Translations a replay's chat asks for at once. */
const REPLAY_TRANSLATIONS_AT_ONCE = 8;

export interface ChatServiceOptions {
  gateway: RealtimeGateway;
  presence: RoomPresence;
  rooms: RoomService;
  store: ChatStore;
  moderation: ChatModeration;
  /** Length, bans, mutes and blocked words (shared with the tips of the wallet). */
  rules: ChatRules;
  translator: Translator;
  /** How long a busy room's messages and translations are gathered into one `chat:batch` (0: never). */
  batchMs: number;
  /** Messages one user may send per 10 seconds, over all their connections on this process. */
  messagesPer10s: number;
  /** Where tips come from (the wallet), for the chat's tip animation. */
  tips?: { on(event: 'tip', listener: (tip: Tip) => void): () => void };
  /** Paid live rooms: the ticket a user holds for a room, if any (the chat is part of what it buys). */
  tickets: { ticketFor(userId: string, roomId: string): Promise<string | null> };
  /** An account's platform role (channel moderators may not act on platform staff). */
  userRole?: (userId: UserId) => Promise<string | null>;
  /** Ends a banned user's media (their SFU sessions and the grants they hold) in a live room. */
  media?: { endUserMedia(userId: UserId, roomId: RoomId): Promise<void> };
  metrics: Registry;
  logger: Logger;
}

/**
 * Chat in every room (live or call), over the real-time gateway: stores each message before it is
 * acknowledged (once per client id), sends the original to the room at once, then translates it
 * once per language its readers read and sends each translation to that language's readers only.
 * Moderation (delete, mute, ban, slow mode, blocked words) is checked here and recorded by
 * ChatModeration; a ban also takes the user out of the room and keeps them from joining it again.
 */
export class ChatService {
  readonly #log: Logger;
  readonly #limiter: MemoryRateLimiter;
  /** Slow mode: when each user (room, user) last sent, on this process. */
  readonly #lastSent = new LRUCache<string, number>({ max: 100_000, ttl: 3600_000 });
  /** Rooms by id (owner and kind never change; a price change here clears the entry, elsewhere within a minute). */
  readonly #rooms = new LRUCache<RoomId, Room>({ max: 10_000, ttl: 60_000 });
  /** Who holds a ticket for a paid room (`room user`): tickets are never taken back, so only yes is kept. */
  readonly #ticketHolders = new LRUCache<string, true>({ max: 100_000, ttl: 3600_000 });
  /** The languages a room's members read, for a short while (this process's joins refresh it at once). */
  readonly #languages = new LRUCache<RoomId, string[]>({ max: 10_000, ttl: 2000 });
  readonly #messages: Counter<'result'>;
  readonly #stopPresence: () => void;
  readonly #stopRoomUpdates: () => void;
  readonly #stopTips: () => void;
  readonly #onTip = (tip: Tip) => this.#tip(tip);
  /** Translations started and not finished (tests and shutdown wait for them). */
  readonly #pending = new Set<Promise<void>>();
  readonly #fanout: ChatFanout;
  #closed = false;

  constructor(private readonly o: ChatServiceOptions) {
    this.#log = o.logger;
    this.#limiter = new MemoryRateLimiter(o.messagesPer10s, 10_000);
    this.#fanout = new ChatFanout(o.gateway, o.batchMs);
    this.#messages = new Counter({
      name: 'chat_messages_total',
      help: 'Chat messages sent, by result (stored, duplicate, or the refusal code)',
      labelNames: ['result'] as const,
      registers: [o.metrics],
    });
    const g = o.gateway;
    g.handle('chat:send', ChatSendMessage, (ctx, msg) => this.#whenOpen(() => this.#counted(this.#send(ctx, msg))));
    g.handle('chat:history', ChatHistoryRequest, (ctx, msg) => this.#whenOpen(() => this.#history(ctx, msg)));
    g.handle('chat:delete', ChatDeleteRequest, (ctx, msg) => this.#whenOpen(() => this.#delete(ctx, msg)));
    g.handle('chat:react', ChatReactRequest, (ctx, msg) => this.#whenOpen(() => this.#react(ctx, msg)));
    g.handle('chat:moderate', ChatModerateRequest, (ctx, msg) => this.#whenOpen(() => this.#moderate(ctx, msg)));
    g.handle('chat:settings', ChatSettingsRequest, (ctx, msg) => this.#whenOpen(() => this.#settings(ctx, msg)));
    // Live rooms open to `join` for chat (an audience: no presence broadcasts); calls register their own kind.
    o.presence.registerKind('live', { capacity: null, audience: true });
    o.presence.addGate(async (room, session) => {
      if (room.ownerId === session.userId) return;
      await o.rules.checkNotBanned(room.id, session.userId);
      // A paid live room's chat is part of what its ticket buys: reading it too.
      await this.#checkTicket(room, session);
    });
    this.#stopPresence = o.presence.on('presence', (event) => {
      if (event.type === 'joined') {
        const known = this.#languages.get(event.roomId);
        if (known && !known.includes(event.member.language)) this.#languages.delete(event.roomId);
        // Also on a resume: a reloaded page is a new client that knows nothing yet.
        void this.#sendState(event.ctx, event.roomId);
      } else if (event.type === 'left') {
        this.#languages.delete(event.roomId);
      }
    });
    this.#stopRoomUpdates = o.rooms.on('update', (room) => this.#rooms.delete(room.id));
    this.#stopTips = o.tips?.on('tip', this.#onTip) ?? (() => undefined);
  }

  /** A closed chat refuses work with `unavailable`. */
  #whenOpen<T>(work: () => T): T {
    if (this.#closed) throw unavailable('the chat is closed');
    return work();
  }

  /** Wait for every translation under way (tests; shutdown). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Idempotent: stops listening; translations under way finish or are abandoned by the translator. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopPresence();
    this.#stopRoomUpdates();
    this.#stopTips();
    this.#limiter.close();
    await this.settled();
    this.#fanout.close();
  }

  // --- messages -------------------------------------------------------------------------------

  async #send(ctx: SocketContext, msg: ChatSendMessage): Promise<ChatSendResult> {
    const room = await this.#member(ctx, msg.roomId);
    const session = ctx.session;
    if (session.isGuest) throw forbidden('sign in to chat');
    const text = msg.text.trim();
    if (text.length === 0) throw new AppError(ErrorCode.ValidationFailed, 'chat:send: the message is empty');
    this.o.rules.checkLength(text);
    const moderator = (await this.o.rules.moderator(session, room)) !== null;
    await this.#checkTicket(room, session);
    const key = `${room.id} ${session.userId}`;
    if (!moderator) {
      await this.o.rules.checkSender(room.id, session.userId, { mute: true });
      const limit = this.#limiter.hitSync(session.userId);
      if (!limit.allowed) {
        throw new AppError(ErrorCode.RateLimited, 'you are sending too fast', {
          retryAfterSeconds: limit.retryAfterSeconds,
        });
      }
      const settings = await this.o.moderation.settings(room.id);
      if (settings.slowModeSeconds > 0) {
        const last = this.#lastSent.get(key);
        const wait = last === undefined ? 0 : last + settings.slowModeSeconds * 1000 - Date.now();
        if (wait > 0) {
          throw new AppError(ErrorCode.RateLimited, `slow mode: one message every ${settings.slowModeSeconds} s`, {
            retryAfterSeconds: Math.ceil(wait / 1000),
          });
        }
      }
      await this.o.rules.checkWords(text, settings);
    }
    const language = ctx.membership?.language ?? session.language;
    const stored = await this.o.store.add({
      roomId: room.id,
      authorId: session.userId,
      authorName: session.displayName,
      authorModerator: moderator,
      clientId: msg.clientId,
      language,
      text,
    });
    if (stored.duplicate) return { message: stored.message, duplicate: true };
    this.#lastSent.set(key, Date.now());
    this.#fanout.message(room.id, stored.message);
    this.#translate(room.id, stored.message.id, language, text, stored.textHash);
    return { message: stored.message, duplicate: false };
  }

  async #history(ctx: SocketContext, msg: ChatHistoryRequest): Promise<ChatHistoryResult> {
    await this.#checkTicket(await this.#member(ctx, msg.roomId), ctx.session);
    const language = ctx.membership?.language ?? ctx.session.language;
    const page = await this.o.store.history(msg.roomId, { userId: ctx.session.userId, language }, msg.before);
    // Messages sent before anyone read this language here have no translation yet: ask for them
    // now and send each to this reader as it comes (after the acknowledgement with the page).
    const missing = this.#untranslated(page.messages, language);
    if (missing.length > 0) {
      const work = (async () => {
        // After the acknowledgement is on its way; newest first (the reader looks at the bottom).
        await new Promise((resolve) => setImmediate(resolve));
        for (const m of missing.reverse()) {
          const outcome = await this.o.translator.translate(m.language, language, m.text, textHash(m.text));
          ctx.send('chat:translation', {
            roomId: msg.roomId,
            messageId: m.id,
            language,
            status: outcome.status,
            ...(outcome.status === 'ok' ? { text: outcome.text } : {}),
          });
        }
      })().catch((err: unknown) => this.#log.error({ err, roomId: msg.roomId }, 'history translation failed'));
      this.#pending.add(work);
      void work.finally(() => this.#pending.delete(work));
    }
    return page;
  }

  /**
   * A broadcast's chat for its replay: the room's messages sent in the window, read like
   * `chat:history` (reactions, cached translations), with the translations it lacks into the
   * reader's language asked for now and awaited (an HTTP answer has no later `chat:translation`).
   * Who may read it is the caller's decision (the replay's access rule).
   */
  async sentBetween(
    roomId: RoomId,
    reader: ChatReader,
    window: { from: Date; to: Date },
    limit: number,
  ): Promise<ChatMessage[]> {
    const messages = await this.#whenOpen(() => this.o.store.sentBetween(roomId, reader, window, limit));
    const missing = this.#untranslated(messages, reader.language);
    // A few at a time: the translator queues and bounds the engine's work; a full queue answers `unavailable`.
    for (let i = 0; i < missing.length; i += REPLAY_TRANSLATIONS_AT_ONCE) {
      await Promise.all(
        missing.slice(i, i + REPLAY_TRANSLATIONS_AT_ONCE).map(async (m) => {
          const outcome = await this.o.translator.translate(m.language, reader.language, m.text, textHash(m.text));
          m.translation = {
            language: reader.language,
            status: outcome.status,
            ...(outcome.status === 'ok' ? { text: outcome.text } : {}),
          };
        }),
      );
    }
    return messages;
  }

  /** Messages the reader reads in another language and that have no translation yet (none without an engine). */
  #untranslated(messages: ChatMessage[], language: string): ChatMessage[] {
    if (this.o.translator.engineName === 'none') return [];
    return messages.filter((m) => m.translation === undefined && !sameLanguage(m.language, language));
  }

  async #delete(ctx: SocketContext, msg: ChatDeleteRequest): Promise<void> {
    const room = await this.#member(ctx, msg.roomId);
    await this.#deleteMessage(room, ctx.session, msg.messageId, null);
  }

  /**
   * Platform staff acting from outside the room (a report's resolution): delete a message, as a
   * moderator who is not in the room. Recorded with the request id.
   */
  async staffDelete(actor: Session, roomId: RoomId, messageId: ChatMessageId, requestId: string): Promise<void> {
    await this.#deleteMessage(await this.#room(roomId), actor, messageId, requestId);
  }

  /** Platform staff acting from outside the room: mute, ban, unmute or unban, as `chat:moderate` does. */
  async staffModerate(actor: Session, msg: ChatModerateRequest, requestId: string): Promise<void> {
    await this.#applyModeration(await this.#room(msg.roomId), actor, msg, requestId);
  }

  async #deleteMessage(room: Room, actor: Session, messageId: ChatMessageId, requestId: string | null) {
    const message = await this.o.store.get(room.id, messageId);
    if (!message) throw new AppError(ErrorCode.NotFound, 'no such message in this room');
    const moderator = await this.o.rules.moderator(actor, room);
    if (!moderator && message.author_id !== actor.userId) {
      throw forbidden('only the streamer and moderators can delete others’ messages');
    }
    if (!(await this.o.store.delete(room.id, messageId, actor.userId))) return;
    // The message may still wait in the room's batch: it must reach the readers before its deletion.
    this.#fanout.flushRoom(room.id);
    if (message.author_id !== actor.userId) {
      await this.o.moderation.record({
        roomId: room.id,
        actor: { ...(moderator ?? { userId: actor.userId, role: actor.role }), requestId },
        action: 'delete',
        targetUserId: message.author_id as UserId,
        messageId: message.id,
        details: { text: message.text },
      });
    }
    this.o.gateway.emitToRoom(room.id, 'chat:delete', {
      roomId: room.id,
      messageId,
      deletedBy: actor.userId,
    });
  }

  async #react(ctx: SocketContext, msg: ChatReactRequest): Promise<{ count: number }> {
    const room = await this.#member(ctx, msg.roomId);
    if (ctx.session.isGuest) throw forbidden('sign in to react');
    await this.#checkTicket(room, ctx.session);
    if (!(await this.o.store.get(room.id, msg.messageId))) {
      throw new AppError(ErrorCode.NotFound, 'no such message in this room');
    }
    const count = await this.o.store.react(msg.messageId, ctx.session.userId, msg.emoji, msg.on);
    this.#fanout.flushRoom(room.id);
    this.o.gateway.emitToRoom(room.id, 'chat:react', {
      roomId: room.id,
      messageId: msg.messageId,
      emoji: msg.emoji,
      userId: ctx.session.userId,
      on: msg.on,
      count,
    });
    return { count };
  }

  async #moderate(ctx: SocketContext, msg: ChatModerateRequest): Promise<void> {
    await this.#applyModeration(await this.#member(ctx, msg.roomId), ctx.session, msg, null);
  }

  async #applyModeration(room: Room, actor: Session, msg: ChatModerateRequest, requestId: string | null) {
    const moderator = await this.o.rules.moderator(actor, room);
    if (!moderator) throw forbidden('only the streamer and moderators can do this');
    const who = { ...moderator, requestId };
    if (msg.userId === room.ownerId || msg.userId === actor.userId) {
      throw forbidden('the streamer and you yourself cannot be muted or banned here');
    }
    // A channel moderator's power stops at those who moderate the room too.
    if (who.role === 'channel_moderator' && (await this.#moderatesRoom(room, msg.userId))) {
      throw forbidden('a channel moderator cannot mute or ban the room’s moderators');
    }
    const base = { roomId: room.id, action: msg.action, userId: msg.userId, by: actor.userId };
    switch (msg.action) {
      case 'mute': {
        const until = new Date(Date.now() + msg.durationSeconds * 1000);
        await this.o.moderation.restrict(room.id, who, msg.userId, 'mute', until, msg.reason);
        this.o.gateway.emitToRoom(room.id, 'chat:moderation', {
          ...base,
          until: until.toISOString(),
          ...(msg.reason ? { reason: msg.reason } : {}),
        });
        break;
      }
      case 'ban': {
        await this.o.moderation.restrict(room.id, who, msg.userId, 'ban', null, msg.reason);
        this.o.gateway.emitToRoom(room.id, 'chat:moderation', {
          ...base,
          ...(msg.reason ? { reason: msg.reason } : {}),
        });
        for (const m of await this.o.presence.members(room.id)) {
          if (m.userId !== msg.userId) continue;
          await this.o.presence.remove(room.id, m.peerId, {
            roomId: room.id,
            reason: 'moderation',
            message: 'you were banned from this room',
          });
        }
        // And their media: the stream they watch stops before the moderator hears back.
        if (room.kind === 'live') await this.#endMedia(msg.userId, room.id);
        break;
      }
      case 'unmute':
      case 'unban':
        await this.o.moderation.lift(room.id, who, msg.userId, msg.action === 'unmute' ? 'mute' : 'ban');
        this.o.gateway.emitToRoom(room.id, 'chat:moderation', base);
        break;
    }
    this.#log.info({ roomId: room.id, action: msg.action, target: msg.userId, by: actor.userId }, 'chat moderation');
  }

  async #settings(
    ctx: SocketContext,
    msg: ChatSettingsRequest,
  ): Promise<{ slowModeSeconds: number; blockedWords: string[] }> {
    const room = await this.#member(ctx, msg.roomId);
    const who = await this.o.rules.moderator(ctx.session, room);
    if (!who) throw forbidden('only the streamer and moderators can do this');
    const next = await this.o.moderation.updateSettings(room.id, who, {
      ...(msg.slowModeSeconds !== undefined ? { slowModeSeconds: msg.slowModeSeconds } : {}),
      ...(msg.blockedWords !== undefined ? { blockedWords: msg.blockedWords } : {}),
    });
    // Readers learn slow mode; the word list stays with those who moderate.
    this.o.gateway.emitToRoom(room.id, 'chat:settings', { roomId: room.id, slowModeSeconds: next.slowModeSeconds });
    return next;
  }

  // --- helpers --------------------------------------------------------------------------------

  async #counted<T>(work: Promise<T & { duplicate: boolean }>): Promise<T> {
    try {
      const result = await work;
      this.#messages.inc({ result: result.duplicate ? 'duplicate' : 'stored' });
      return result;
    } catch (err) {
      this.#messages.inc({ result: err instanceof AppError ? err.code : ErrorCode.Internal });
      throw err;
    }
  }

  /** The room the connection is in; a message for another room is refused. */
  async #member(ctx: SocketContext, roomId: RoomId): Promise<Room> {
    if (ctx.membership?.roomId !== roomId) throw new AppError(ErrorCode.NotJoined, 'join the room first');
    return this.#room(roomId);
  }

  /** A paid live room (`ticketPrice`) needs a ticket of everyone who does not moderate it. */
  async #checkTicket(room: Room, session: Session): Promise<void> {
    if (room.kind !== 'live' || (room.ticketPrice ?? 0) <= 0) return;
    if (await this.o.rules.moderator(session, room)) return;
    const key = `${room.id} ${session.userId}`;
    if (this.#ticketHolders.has(key)) return;
    if (!session.isGuest && (await this.o.tickets.ticketFor(session.userId, room.id))) {
      this.#ticketHolders.set(key, true);
      return;
    }
    throw new AppError(
      ErrorCode.TicketRequired,
      session.isGuest
        ? 'the chat of this stream is for ticket holders; sign in to buy one'
        : `the chat of this stream is for ticket holders (${room.ticketPrice} tokens)`,
      { ticketPrice: room.ticketPrice },
    );
  }

  /** Does the user moderate the room (owner, channel moderator, platform staff)? Asks for their role. */
  async #moderatesRoom(room: Room, userId: UserId): Promise<boolean> {
    const role = (await this.o.userRole?.(userId)) ?? undefined;
    return this.o.rules.moderates(room.id, room.ownerId, userId, role);
  }

  async #endMedia(userId: UserId, roomId: RoomId): Promise<void> {
    try {
      await this.o.media?.endUserMedia(userId, roomId);
    } catch (err) {
      // The ban holds (no new grant, no join); the grants they hold run out within GRANT_TTL_SECONDS.
      this.#log.error({ err, roomId, userId }, 'could not end the banned user’s media');
    }
  }

  async #room(roomId: RoomId): Promise<Room> {
    const cached = this.#rooms.get(roomId);
    if (cached) return cached;
    const room = await this.o.rooms.get(roomId);
    this.#rooms.set(roomId, room);
    return room;
  }

  async #sendState(ctx: SocketContext, roomId: RoomId): Promise<void> {
    try {
      const room = await this.#room(roomId);
      const session = ctx.session;
      const moderator = (await this.o.rules.moderator(session, room)) !== null;
      const [settings, restrictions]: [Awaited<ReturnType<ChatModeration['settings']>>, Restrictions] =
        await Promise.all([
          this.o.moderation.settings(roomId),
          session.isGuest ? { banned: false } : this.o.moderation.restrictions(roomId, session.userId),
        ]);
      const mutedUntil: number | undefined = restrictions.mutedUntil;
      const state: ChatStateEvent = {
        roomId,
        language: ctx.membership?.language ?? session.language,
        engine: this.o.translator.engineName,
        translationAvailable: this.o.translator.available,
        canModerate: moderator,
        canSend: !session.isGuest && (moderator || mutedUntil === undefined),
        slowModeSeconds: settings.slowModeSeconds,
        maxLength: this.o.rules.maxLength,
        ...(mutedUntil !== undefined ? { mutedUntil: new Date(mutedUntil).toISOString() } : {}),
        ...(moderator ? { blockedWords: settings.blockedWords } : {}),
      };
      ctx.send('chat:state', state);
    } catch (err) {
      this.#log.warn({ err, roomId }, 'could not send the chat state');
    }
  }

  /** The languages the room's members read (distinct, as they asked for them). */
  async #roomLanguages(roomId: RoomId): Promise<string[]> {
    const cached = this.#languages.get(roomId);
    if (cached) return cached;
    const languages = await this.o.presence.languages(roomId);
    this.#languages.set(roomId, languages);
    return languages;
  }

  /** Translate once per language read in the room (never per reader), each to its readers only. */
  #translate(
    roomId: RoomId,
    messageId: ChatSendResult['message']['id'],
    source: string,
    text: string,
    hash: string,
  ): void {
    // No engine at all: readers know from `chat:state` (engine "none"); nothing to say per message.
    if (this.o.translator.engineName === 'none') return;
    const work = (async () => {
      const targets = (await this.#roomLanguages(roomId)).filter((l) => !sameLanguage(l, source));
      await Promise.all(
        targets.map(async (target) => {
          const outcome = await this.o.translator.translate(source, target, text, hash);
          this.#fanout.translation(roomId, {
            roomId,
            messageId,
            language: target,
            status: outcome.status,
            ...(outcome.status === 'ok' ? { text: outcome.text } : {}),
          });
        }),
      );
    })().catch((err: unknown) => this.#log.error({ err, roomId }, 'translation fan-out failed'));
    this.#pending.add(work);
    void work.finally(() => this.#pending.delete(work));
  }

  #tip(tip: Tip): void {
    this.o.gateway.emitToRoom(tip.roomId, 'chat:tip', {
      roomId: tip.roomId,
      from: { userId: tip.fromUserId, displayName: tip.fromName },
      amount: tip.amount,
      ...(tip.message ? { message: tip.message } : {}),
      at: tip.createdAt,
    });
  }
}
