import {
  type Ack,
  type AnyErrorCode,
  asRoomId,
  CHAT_REACTIONS,
  type ChatAuthor,
  type ChatBatchEvent,
  type ChatDeleteEvent,
  ChatHistoryResult,
  type ChatMessage,
  type ChatMessageId,
  type ChatModerateRequest,
  type ChatModerationEvent,
  type ChatReactEvent,
  type ChatReaction,
  ChatSendResult,
  type ChatSettingsEvent,
  type ChatSettingsRequest,
  type ChatStateEvent,
  type ChatTipEvent,
  type ChatTranslation,
  type ChatTranslationEvent,
  ClientErrorCode,
  type ClientMessage,
  type ClientMessageName,
  ErrorCode,
  type JoinedMessage,
  MAX_CHAT_LENGTH,
  type ReactionCount,
  type RemovedMessage,
  type RoomId,
  type RoomState,
  type SignalingErrorMessage,
  sameLanguage,
  type UserId,
} from '@fusionflow/protocol';
import type { io } from 'socket.io-client';
import { Emitter } from './emitter.js';
import { FusionFlowError, type FusionFlowErrorOptions } from './fusionflow-error.js';
import { SignalingConnection, type SignalingStatus } from './signaling-connection.js';

/**
 * What a ChatClient needs of a connection: a SignalingConnection fits (the call's, or one of its own).
 * Tests may pass anything with the same shape.
 */
export interface ChatTransport {
  readonly status: SignalingStatus;
  on: SignalingConnection['on'];
  request<N extends ClientMessageName, T extends object = object>(
    name: N,
    body: ClientMessage<N>,
    timeoutMs?: number,
  ): Promise<Ack<T>>;
}

export type ChatStatus =
  /** Waiting for the connection. */
  | 'connecting'
  /** Connected, waiting for `joined`. */
  | 'joining'
  /** In the room: messages come and go. */
  | 'ready'
  /** The connection dropped; it comes back by itself (pending messages are sent again then). */
  | 'reconnecting'
  /** A moderator took this user out of the room (banned). */
  | 'removed'
  /** The room ended. */
  | 'ended'
  /** The room could not be joined (see `error`). */
  | 'failed'
  | 'closed';

/** How a message reads in the reader's language. */
export type ChatTranslationView =
  /** The message is in the reader's language: nothing to translate. */
  | { status: 'original' }
  /** The translation is on its way (the original shows meanwhile). */
  | { status: 'pending' }
  | { status: 'ok'; text: string }
  /** The engine lacks the pair (`unsupported`), or there is no engine, it failed or never translated it. */
  | { status: 'unsupported' | 'unavailable' };

export interface ChatMessageItem {
  kind: 'message';
  /** Stable across the pending → stored step (the clientId), for React keys. */
  key: string;
  /** Null while the message is being sent. */
  id: ChatMessageId | null;
  clientId: string;
  author: ChatAuthor;
  /** The author's language (the original's). */
  language: string;
  original: string;
  sentAt: string;
  /** The reader wrote it. */
  mine: boolean;
  delivery: 'sent' | 'sending';
  translation: ChatTranslationView;
  /** The reader asked to see the original instead of the translation. */
  showOriginal: boolean;
  /** What to show: the translation when there is one and the original was not asked for. */
  text: string;
  /** `text` is a translation. */
  translated: boolean;
  /** Non-zero counts, in CHAT_REACTIONS order. */
  reactions: ReactionCount[];
}

export interface ChatTipItem {
  kind: 'tip';
  key: string;
  from: { userId: UserId; displayName: string };
  amount: number;
  message?: string;
  at: string;
}

export type ChatItem = ChatMessageItem | ChatTipItem;

/** What is known about another user's restrictions in this room (from moderation events seen). */
export interface ChatRestriction {
  mutedUntil?: string;
  banned?: boolean;
}

/** Everything a chat view shows, immutable: a new object after every change. */
export interface ChatSnapshot {
  status: ChatStatus;
  roomId: string;
  /** Who this reader is (from `joined`). */
  self: { userId: UserId; displayName: string; guest: boolean } | null;
  /** The reader's language (translations come in it). */
  language: string;
  engine: ChatStateEvent['engine'] | null;
  /** False: chat shows originals only (no engine, or its circuit breaker is open). */
  translationAvailable: boolean;
  canSend: boolean;
  canModerate: boolean;
  mutedUntil: string | null;
  slowModeSeconds: number;
  /** Moderators only. */
  blockedWords: string[];
  maxLength: number;
  /** Messages (oldest first) with tips between them; messages being sent come last. */
  items: ChatItem[];
  hasMore: boolean;
  loadingOlder: boolean;
  restrictions: ReadonlyMap<string, ChatRestriction>;
  /** Why the room could not be joined or was left (status `failed`, `removed`, `ended`). */
  error: FusionFlowError | null;
  removed: RemovedMessage | null;
  /** Why the room ended, when an admin ended it with a reason (`room-state.endReason`). */
  endReason: string | null;
}

/** What a chat request answered; a refusal carries the SDK's one failure shape. */
export type ChatResult<T = object> = ({ ok: true } & T) | { ok: false; error: FusionFlowError };

export interface ChatEvents {
  [key: string]: unknown;
  /** Something in the snapshot changed. */
  change: ChatSnapshot;
  /** A message from someone else arrived (live, not from history). */
  message: ChatMessageItem;
  tip: ChatTipEvent;
}

export interface ChatClientOptions {
  /** The connection the chat shares (a call's) or its own (see `ChatClient.connect`). */
  connection: ChatTransport;
  roomId: string;
  /** The language asked for in `join` (used until the server's `chat:state` says). */
  language?: string;
  /** Make the client id of a new message (tests). */
  newClientId?: () => string;
  /** A translation not here this long after its message counts as unavailable, ms. */
  translationTimeoutMs?: number;
  /** How long to wait for an acknowledgement, ms. */
  requestTimeoutMs?: number;
  /** Messages kept while new ones arrive (older ones can be loaded again). */
  maxMessages?: number;
  /** Set by `ChatClient.connect`: the client sends `join` itself and closes the connection with it. */
  owned?: { send: (roomId: string, resume: string | undefined) => void; close: () => void };
}

export interface ChatConnectOptions {
  /** Origin of the control plane ('' or undefined: the page's own). */
  url?: string;
  /** The current access token; asked on every (re)connect. */
  token: () => string | Promise<string>;
  roomId: string;
  /** The reader's language, sent in `join` (the profile's preferred language when absent). */
  language?: string;
  io?: typeof io;
  socketOptions?: Record<string, unknown>;
  newClientId?: () => string;
  translationTimeoutMs?: number;
  requestTimeoutMs?: number;
}

interface StoredMessage {
  message: ChatMessage;
  translation: ChatTranslationView;
  translationTimer: ReturnType<typeof setTimeout> | undefined;
  showOriginal: boolean;
  reactions: Map<ChatReaction, { count: number; mine: boolean }>;
}

interface PendingSend {
  clientId: string;
  text: string;
  sentAt: string;
  inFlight: boolean;
  attempts: number;
  /** The stored id once `chat:message` came back before the acknowledgement. */
  storedId: ChatMessageId | undefined;
  retry: ReturnType<typeof setTimeout> | undefined;
  done: (result: ChatResult<{ message: ChatMessage }>) => void;
}

/** Codes after which sending the same message again cannot help. */
const RETRYABLE = new Set<string>([ErrorCode.Internal, ErrorCode.Unavailable]);
const MAX_ATTEMPTS = 5;

/** Decimal ids, without leading zeros: compare by length, then text. */
export function compareMessageIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

function randomClientId(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const failure = (code: AnyErrorCode, message: string, o: FusionFlowErrorOptions = {}): FusionFlowError =>
  new FusionFlowError(code, message, o);

/**
 * The chat of one room, framework-free: keeps the messages in order, merges translations (live or
 * from history, in either order), reactions, deletions, moderation and the room's chat settings
 * into one immutable snapshot, and emits `change` after each update (React: useSyncExternalStore
 * with `subscribe` and `snapshot`).
 *
 * Sending never loses or doubles a message: each send has a client id; it shows as `sending` at
 * once, and is sent again with the same id after a reconnect (the server stores it once and
 * acknowledges with the stored message).
 *
 * It shares a connection that joins the room (a call's: pass `callClient.signaling` or attach on
 * the call's `connection` event), or opens its own with `ChatClient.connect` (a live room's page,
 * where there is no call) and joins the room itself, again after every reconnect.
 */
export class ChatClient extends Emitter<ChatEvents> {
  readonly #o: ChatClientOptions;
  readonly #c: ChatTransport;
  readonly #roomId: RoomId;
  readonly #messages = new Map<string, StoredMessage>();
  readonly #pending = new Map<string, PendingSend>();
  /** Translations that came before their message (or before history brought it). */
  readonly #early = new Map<string, ChatTranslation>();
  readonly #tips: ChatTipItem[] = [];
  readonly #restrictions = new Map<string, ChatRestriction>();
  readonly #offs: Array<() => void> = [];
  #status: ChatStatus = 'connecting';
  #joined = false;
  #self: ChatSnapshot['self'] = null;
  /** The reader hosts the room (moderates it even before `chat:state` says). */
  #host = false;
  #state: ChatStateEvent | null = null;
  #hasMore = false;
  #loadingOlder = false;
  #historyLoaded = false;
  #error: FusionFlowError | null = null;
  #removed: RemovedMessage | null = null;
  #endReason: string | null = null;
  #resume: string | undefined;
  #muteTimer: ReturnType<typeof setTimeout> | undefined;
  #tipSeq = 0;
  #snapshot: ChatSnapshot | null = null;
  /** Inside a `chat:batch`: changes are noted, and the snapshot is built and announced once at the end. */
  #batch: { changed: boolean; arrived: string[] } | null = null;
  #closed = false;

  /** Open a connection of its own and join the room on it (after every reconnect too). */
  static connect(o: ChatConnectOptions): ChatClient {
    const connection = new SignalingConnection({
      url: o.url,
      token: o.token,
      ...(o.io ? { io: o.io } : {}),
      ...(o.socketOptions ? { socketOptions: o.socketOptions } : {}),
    });
    const client = new ChatClient({
      connection,
      roomId: o.roomId,
      ...(o.language ? { language: o.language } : {}),
      ...(o.newClientId ? { newClientId: o.newClientId } : {}),
      ...(o.translationTimeoutMs !== undefined ? { translationTimeoutMs: o.translationTimeoutMs } : {}),
      ...(o.requestTimeoutMs !== undefined ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
      owned: {
        send: (roomId, resume) =>
          connection.send('join', {
            roomId: asRoomId(roomId),
            ...(resume ? { resume } : {}),
            ...(o.language ? { language: o.language } : {}),
          }),
        close: () => connection.close(),
      },
    });
    connection.connect();
    return client;
  }

  constructor(options: ChatClientOptions) {
    super();
    this.#o = options;
    this.#c = options.connection;
    this.#roomId = asRoomId(options.roomId);
    const c = this.#c;
    this.#offs.push(
      c.on('status', (s) => this.#onStatus(s)),
      c.on('joined', (m) => this.#onJoined(m)),
      c.on('room-state', (m) => this.#onRoomState(m)),
      c.on('removed', (m) => this.#onRemoved(m)),
      c.on('error', (e) => this.#onError(e)),
      c.on('fatal', (e) => this.#fail('failed', e)),
      c.on('chat:state', (m) => this.#onState(m)),
      c.on('chat:message', (m) => this.#onMessage(m)),
      c.on('chat:translation', (m) => this.#onTranslation(m)),
      c.on('chat:delete', (m) => this.#onDelete(m)),
      c.on('chat:react', (m) => this.#onReact(m)),
      c.on('chat:moderation', (m) => this.#onModeration(m)),
      c.on('chat:settings', (m) => this.#onSettings(m)),
      c.on('chat:tip', (m) => this.#onTip(m)),
      c.on('chat:batch', (b) => this.#onBatch(b)),
    );
    this.#status = c.status === 'connected' ? 'joining' : c.status === 'closed' ? 'closed' : 'connecting';
    if (c.status === 'connected' && options.owned) options.owned.send(this.#roomId, undefined);
  }

  get roomId(): string {
    return this.#roomId;
  }

  get status(): ChatStatus {
    return this.#status;
  }

  /** For React's useSyncExternalStore: the same object until something changes. */
  readonly subscribe = (listener: () => void): (() => void) => this.on('change', listener);
  readonly getSnapshot = (): ChatSnapshot => this.snapshot;

  get snapshot(): ChatSnapshot {
    this.#snapshot ??= this.#build();
    return this.#snapshot;
  }

  // --- actions --------------------------------------------------------------------------------

  /**
   * Send a message. It shows at once (`sending`) and resolves once stored (`ok`) or refused with
   * the server's code (`muted`, `rate_limited` with `retryAfterSeconds`, `message_blocked`, …).
   * While the connection is down it waits and is sent again after the reconnect.
   */
  send(text: string): Promise<ChatResult<{ message: ChatMessage }>> {
    const trimmed = text.trim();
    const snap = this.snapshot;
    if (this.#closed)
      return Promise.resolve({ ok: false, error: failure(ClientErrorCode.Closed, 'the chat is closed') });
    if (this.#isFinal()) {
      return Promise.resolve({
        ok: false,
        error: this.#error ?? failure(ClientErrorCode.Closed, 'the chat is closed'),
      });
    }
    if (trimmed.length === 0) {
      return Promise.resolve({ ok: false, error: failure(ErrorCode.ValidationFailed, 'the message is empty') });
    }
    if ([...trimmed].length > snap.maxLength) {
      return Promise.resolve({
        ok: false,
        error: failure(ErrorCode.PayloadTooLarge, `a message has ${snap.maxLength} characters at most`),
      });
    }
    if (this.#self?.guest) {
      return Promise.resolve({ ok: false, error: failure(ErrorCode.Forbidden, 'sign in to chat') });
    }
    return new Promise((resolve) => {
      const clientId = (this.#o.newClientId ?? randomClientId)();
      const pending: PendingSend = {
        clientId,
        text: trimmed,
        sentAt: new Date().toISOString(),
        inFlight: false,
        attempts: 0,
        storedId: undefined,
        retry: undefined,
        done: (result) => {
          clearTimeout(pending.retry);
          this.#pending.delete(clientId);
          this.#changed();
          resolve(result);
        },
      };
      this.#pending.set(clientId, pending);
      this.#changed();
      this.#flush(pending);
    });
  }

  /** Load the page of messages before the oldest one shown. */
  async loadOlder(): Promise<ChatResult> {
    const oldest = this.#sortedIds()[0];
    if (!this.#joined || this.#loadingOlder || !this.#hasMore || oldest === undefined) return { ok: true };
    this.#loadingOlder = true;
    this.#changed();
    try {
      return await this.#loadHistory(oldest as ChatMessageId);
    } finally {
      this.#loadingOlder = false;
      this.#changed();
    }
  }

  /** Show the original of a message instead of its translation, or back. */
  toggleOriginal(messageId: string): void {
    const m = this.#messages.get(messageId);
    if (!m) return;
    m.showOriginal = !m.showOriginal;
    this.#changed();
  }

  /** Give a reaction, or take one's own back. */
  async react(messageId: string, emoji: ChatReaction, on?: boolean): Promise<ChatResult<{ count: number }>> {
    const m = this.#messages.get(messageId);
    const want = on ?? !m?.reactions.get(emoji)?.mine;
    const answer = await this.#request<{ count: number }>('chat:react', {
      roomId: this.#roomId,
      messageId: messageId as ChatMessageId,
      emoji,
      on: want,
    });
    if (answer.ok) this.#setReaction(messageId, emoji, answer.count, want);
    return answer;
  }

  /** Delete a message (one's own, or anybody's for those who moderate). */
  async delete(messageId: string): Promise<ChatResult> {
    const answer = await this.#request('chat:delete', {
      roomId: this.#roomId,
      messageId: messageId as ChatMessageId,
    });
    if (answer.ok) this.#remove(messageId);
    return answer;
  }

  /** Mute, unmute, ban or unban a user in this room (moderators). */
  async moderate(action: DistributiveOmit<ChatModerateRequest, 'roomId'>): Promise<ChatResult> {
    const answer = await this.#request('chat:moderate', { ...action, roomId: this.#roomId } as ChatModerateRequest);
    return answer;
  }

  /** Change slow mode and the blocked words (moderators). */
  async updateSettings(
    settings: Omit<ChatSettingsRequest, 'roomId'>,
  ): Promise<ChatResult<{ slowModeSeconds: number; blockedWords: string[] }>> {
    const answer = await this.#request<{ slowModeSeconds: number; blockedWords: string[] }>('chat:settings', {
      ...settings,
      roomId: this.#roomId,
    });
    if (answer.ok && this.#state) {
      this.#state = { ...this.#state, slowModeSeconds: answer.slowModeSeconds, blockedWords: answer.blockedWords };
      this.#changed();
    }
    return answer;
  }

  /** Stop: listeners, timers and (when it is its own) the connection. Pending sends resolve as failed. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs) off();
    clearTimeout(this.#muteTimer);
    for (const m of this.#messages.values()) clearTimeout(m.translationTimer);
    for (const p of [...this.#pending.values()])
      p.done({ ok: false, error: failure(ClientErrorCode.Closed, 'the chat is closed') });
    this.#o.owned?.close();
    if (this.#status !== 'removed' && this.#status !== 'ended' && this.#status !== 'failed') this.#status = 'closed';
    this.#changed();
    this.removeAllListeners();
  }

  // --- connection -----------------------------------------------------------------------------

  #onStatus(s: SignalingStatus): void {
    if (this.#isFinal()) return;
    if (s === 'connected') {
      this.#setStatus('joining');
      this.#o.owned?.send(this.#roomId, this.#resume);
      return;
    }
    this.#joined = false;
    if (s === 'reconnecting') this.#setStatus(this.#historyLoaded ? 'reconnecting' : 'connecting');
    else if (s === 'closed') this.#setStatus('closed');
  }

  #onJoined(msg: JoinedMessage): void {
    if (msg.roomState.roomId !== this.#roomId || this.#closed) return;
    this.#joined = true;
    this.#resume = msg.resumeToken;
    this.#self = { userId: msg.self.userId, displayName: msg.self.displayName, guest: msg.self.guest };
    this.#host = msg.self.role === 'host';
    this.#error = null;
    this.#setStatus('ready');
    // Whatever happened while away (messages, deletions, reactions) comes with the newest page.
    void this.#loadHistory(undefined);
    for (const p of this.#pending.values()) this.#flush(p);
  }

  #onRoomState(state: RoomState): void {
    if (state.roomId === this.#roomId && state.status === 'ended') {
      this.#fail(
        'ended',
        failure(ErrorCode.RoomEnded, state.endReason ? `the room was ended: ${state.endReason}` : 'the room has ended'),
      );
    }
  }

  #onRemoved(msg: RemovedMessage): void {
    if (msg.roomId !== this.#roomId) return;
    this.#removed = msg;
    this.#fail(
      'removed',
      failure(msg.reason === 'moderation' ? ErrorCode.Banned : ClientErrorCode.Removed, msg.message),
    );
    // Its own connection has nothing left to do (a join again would be refused).
    this.#o.owned?.close();
  }

  #onError(e: SignalingErrorMessage): void {
    if (e.event !== 'join' || this.#joined) return;
    // A connection already in the room (after a reconnect raced a resume) is fine.
    if (e.code === ErrorCode.Conflict && /already in this room/.test(e.message)) return;
    const status: ChatStatus =
      e.code === ErrorCode.RoomEnded ? 'ended' : e.code === ErrorCode.Banned ? 'removed' : 'failed';
    this.#fail(status, FusionFlowError.fromWire(e));
    if (this.#o.owned) this.#o.owned.close();
  }

  #fail(status: ChatStatus, error: FusionFlowError): void {
    this.#joined = false;
    this.#error = error;
    this.#setStatus(status);
    for (const p of [...this.#pending.values()]) if (!p.inFlight) p.done({ ok: false, error });
  }

  #isFinal(): boolean {
    return this.#closed || this.#status === 'removed' || this.#status === 'ended' || this.#status === 'failed';
  }

  // --- server events --------------------------------------------------------------------------

  #onState(state: ChatStateEvent): void {
    if (state.roomId !== this.#roomId) return;
    this.#state = state;
    this.#scheduleUnmute(state.mutedUntil);
    if (state.engine === 'none' || !state.translationAvailable) {
      // Nothing is coming: say so now rather than after the timeout.
      for (const m of this.#messages.values()) {
        if (m.translation.status !== 'pending') continue;
        clearTimeout(m.translationTimer);
        m.translation = { status: 'unavailable' };
      }
    }
    this.#changed();
  }

  #onMessage(message: ChatMessage): void {
    if (message.roomId !== this.#roomId) return;
    const known = this.#messages.has(message.id);
    this.#upsert(message, 'live');
    if (!known) {
      const mine = message.author.userId === this.#self?.userId;
      const pending = mine ? this.#pending.get(message.clientId) : undefined;
      if (pending) pending.storedId = message.id;
      this.#changed();
      if (!mine) {
        if (this.#batch) this.#batch.arrived.push(message.id);
        else this.#announce([message.id]);
      }
    }
  }

  /** The server's batch applied in one step: one snapshot, one `change`, then the `message` events. */
  #onBatch(b: ChatBatchEvent): void {
    if (b.roomId !== this.#roomId) return;
    const batch = { changed: false, arrived: [] as string[] };
    this.#batch = batch;
    try {
      for (const m of b.messages) this.#onMessage(m);
      for (const t of b.translations) this.#onTranslation(t);
    } finally {
      this.#batch = null;
    }
    if (batch.changed) this.#changed();
    this.#announce(batch.arrived);
  }

  /** `message` events for messages that arrived from others (live). */
  #announce(ids: readonly string[]): void {
    if (ids.length === 0) return;
    const wanted = new Set(ids);
    for (const item of this.snapshot.items) {
      if (item.kind === 'message' && item.id !== null && wanted.has(item.id)) this.emit('message', item);
    }
  }

  #onTranslation(t: ChatTranslationEvent): void {
    if (t.roomId !== this.#roomId) return;
    const translation: ChatTranslation = {
      language: t.language,
      status: t.status,
      ...(t.text !== undefined ? { text: t.text } : {}),
    };
    const m = this.#messages.get(t.messageId);
    if (!m) {
      this.#early.set(t.messageId, translation);
      if (this.#early.size > 500) this.#early.delete(this.#early.keys().next().value!);
      return;
    }
    this.#applyTranslation(m, translation);
    this.#changed();
  }

  #onDelete(e: ChatDeleteEvent): void {
    if (e.roomId === this.#roomId) this.#remove(e.messageId);
  }

  #onReact(e: ChatReactEvent): void {
    if (e.roomId !== this.#roomId) return;
    const mine = e.userId === this.#self?.userId ? e.on : undefined;
    this.#setReaction(e.messageId, e.emoji, e.count, mine);
  }

  #onModeration(e: ChatModerationEvent): void {
    if (e.roomId !== this.#roomId) return;
    const current = this.#restrictions.get(e.userId) ?? {};
    const next: ChatRestriction = { ...current };
    if (e.action === 'mute') next.mutedUntil = e.until;
    if (e.action === 'unmute') delete next.mutedUntil;
    if (e.action === 'ban') next.banned = true;
    if (e.action === 'unban') delete next.banned;
    if (next.mutedUntil === undefined && !next.banned) this.#restrictions.delete(e.userId);
    else this.#restrictions.set(e.userId, next);
    if (e.userId === this.#self?.userId && this.#state && !this.#state.canModerate) {
      if (e.action === 'mute' && e.until) {
        this.#state = { ...this.#state, canSend: false, mutedUntil: e.until };
        this.#scheduleUnmute(e.until);
      } else if (e.action === 'unmute') {
        const { mutedUntil: _, ...rest } = this.#state;
        this.#state = { ...rest, canSend: !this.#self.guest };
        clearTimeout(this.#muteTimer);
      }
    }
    this.#changed();
  }

  #onSettings(e: ChatSettingsEvent): void {
    if (e.roomId !== this.#roomId || !this.#state) return;
    this.#state = {
      ...this.#state,
      slowModeSeconds: e.slowModeSeconds,
      ...(e.blockedWords ? { blockedWords: e.blockedWords } : {}),
    };
    this.#changed();
  }

  #onTip(e: ChatTipEvent): void {
    if (e.roomId !== this.#roomId) return;
    this.#tips.push({
      kind: 'tip',
      key: `tip-${++this.#tipSeq}`,
      from: e.from,
      amount: e.amount,
      ...(e.message ? { message: e.message } : {}),
      at: e.at,
    });
    if (this.#tips.length > 50) this.#tips.shift();
    this.#changed();
    this.emit('tip', e);
  }

  // --- helpers --------------------------------------------------------------------------------

  async #request<T extends object = object, N extends ClientMessageName = ClientMessageName>(
    name: N,
    body: ClientMessage<N>,
  ): Promise<ChatResult<T>> {
    if (this.#closed) return { ok: false, error: failure(ClientErrorCode.Closed, 'the chat is closed') };
    if (!this.#joined)
      return { ok: false, error: failure(ClientErrorCode.NotConnected, 'not connected to the room yet') };
    try {
      const answer = await this.#c.request<N, T>(name, body, this.#o.requestTimeoutMs);
      return answer.ok ? answer : { ok: false, error: FusionFlowError.fromWire({ event: name, ...answer.error }) };
    } catch (err) {
      return { ok: false, error: FusionFlowError.from(err) };
    }
  }

  async #loadHistory(before: ChatMessageId | undefined): Promise<ChatResult> {
    const answer = await this.#request<ChatHistoryResult>('chat:history', {
      roomId: this.#roomId,
      ...(before ? { before } : {}),
    });
    if (!answer.ok) return answer;
    const parsed = ChatHistoryResult.safeParse(answer);
    if (!parsed.success)
      return { ok: false, error: failure(ClientErrorCode.InvalidResponse, 'chat:history: invalid answer') };
    const { messages, hasMore } = parsed.data;
    const olderKnown =
      messages.length > 0 && this.#sortedIds().some((id) => compareMessageIds(id, messages[0]!.id) < 0);
    if (before === undefined && messages.length > 0) {
      // The newest page is the truth for its range: what is missing from it was deleted meanwhile.
      const first = messages[0]!.id;
      const last = messages.at(-1)!.id;
      const present = new Set(messages.map((m) => m.id as string));
      for (const id of [...this.#messages.keys()]) {
        if (compareMessageIds(id, first) >= 0 && compareMessageIds(id, last) <= 0 && !present.has(id)) {
          this.#forget(id);
        }
      }
    } else if (before === undefined && !hasMore) {
      // An empty room as far as history goes: everything shown was deleted (live ones came after the answer).
      for (const id of [...this.#messages.keys()]) if (!this.#isMineRecent(id)) this.#forget(id);
    }
    for (const m of messages) this.#upsert(m, 'history');
    if (before !== undefined || !olderKnown) this.#hasMore = hasMore;
    this.#historyLoaded = true;
    this.#changed();
    return { ok: true };
  }

  /** A message of mine that may have been stored after the history page was read. */
  #isMineRecent(id: string): boolean {
    const m = this.#messages.get(id);
    return !!m && Date.now() - Date.parse(m.message.sentAt) < 5000;
  }

  #upsert(message: ChatMessage, from: 'live' | 'history'): void {
    let m = this.#messages.get(message.id);
    if (!m) {
      m = {
        message,
        translation: { status: 'original' },
        translationTimer: undefined,
        showOriginal: false,
        reactions: new Map(),
      };
      this.#messages.set(message.id, m);
      m.translation = this.#initialTranslation(message, from);
      if (m.translation.status === 'pending') {
        const timer = setTimeout(() => {
          if (m!.translation.status !== 'pending') return;
          m!.translation = { status: 'unavailable' };
          this.#changed();
        }, this.#o.translationTimeoutMs ?? 15_000);
        (timer as { unref?: () => void }).unref?.();
        m.translationTimer = timer;
      }
      this.#trim(from);
    } else {
      m.message = { ...message, translation: message.translation ?? m.message.translation };
    }
    const early = this.#early.get(message.id);
    if (early) {
      this.#early.delete(message.id);
      this.#applyTranslation(m, early);
    }
    if (message.translation) this.#applyTranslation(m, message.translation, true);
    // Counts from the server (the message's own list is complete for it).
    m.reactions = new Map(message.reactions.map((r) => [r.emoji, { count: r.count, mine: r.mine }]));
  }

  #initialTranslation(message: ChatMessage, from: 'live' | 'history'): ChatTranslationView {
    const reader = this.#state?.language ?? this.#o.language;
    if (!reader || sameLanguage(reader, message.language)) return { status: 'original' };
    if (message.translation) return { status: 'pending' };
    if (this.#state && (this.#state.engine === 'none' || !this.#state.translationAvailable)) {
      return { status: 'unavailable' };
    }
    // History has what was translated while it was live; nothing more comes for older messages.
    return from === 'live' ? { status: 'pending' } : { status: 'unavailable' };
  }

  #applyTranslation(m: StoredMessage, t: ChatTranslation, fromHistory = false): void {
    const reader = this.#state?.language ?? this.#o.language;
    if (reader && !sameLanguage(t.language, reader)) return;
    if (sameLanguage(t.language, m.message.language)) return;
    if (fromHistory && m.translation.status === 'ok') return;
    clearTimeout(m.translationTimer);
    m.translationTimer = undefined;
    if (t.status === 'ok' && t.text !== undefined) m.translation = { status: 'ok', text: t.text };
    else if (t.status === 'ok') m.translation = { status: 'unavailable' };
    else m.translation = { status: t.status };
  }

  #setReaction(messageId: string, emoji: ChatReaction, count: number, mine: boolean | undefined): void {
    const m = this.#messages.get(messageId);
    if (!m) return;
    const current = m.reactions.get(emoji);
    const next = { count, mine: mine ?? current?.mine ?? false };
    if (count <= 0) m.reactions.delete(emoji);
    else m.reactions.set(emoji, next);
    this.#changed();
  }

  #remove(messageId: string): void {
    if (!this.#messages.has(messageId)) {
      this.#early.delete(messageId);
      return;
    }
    this.#forget(messageId);
    this.#changed();
  }

  #forget(messageId: string): void {
    const m = this.#messages.get(messageId);
    if (!m) return;
    clearTimeout(m.translationTimer);
    this.#messages.delete(messageId);
  }

  /** Keep at most `maxMessages` as new ones arrive: the oldest go (and can be loaded again). */
  #trim(from: 'live' | 'history'): void {
    const max = this.#o.maxMessages ?? 500;
    if (from !== 'live' || this.#messages.size <= max) return;
    const ids = this.#sortedIds();
    for (const id of ids.slice(0, ids.length - max)) this.#forget(id);
    this.#hasMore = true;
  }

  #flush(p: PendingSend): void {
    if (p.inFlight || !this.#joined || this.#closed) return;
    p.inFlight = true;
    p.attempts += 1;
    clearTimeout(p.retry);
    void this.#request<{ message: ChatMessage; duplicate: boolean }>('chat:send', {
      roomId: this.#roomId,
      text: p.text,
      clientId: p.clientId,
    }).then((answer) => {
      p.inFlight = false;
      if (!this.#pending.has(p.clientId)) return;
      if (!answer.ok && this.#isFinal()) {
        p.done({ ok: false, error: this.#error ?? answer.error });
        return;
      }
      if (answer.ok) {
        const parsed = ChatSendResult.safeParse(answer);
        if (parsed.success) {
          this.#upsert(parsed.data.message, 'live');
          p.done({ ok: true, message: parsed.data.message });
          return;
        }
        p.done({ ok: false, error: failure(ClientErrorCode.InvalidResponse, 'chat:send: invalid answer') });
        return;
      }
      const code = answer.error.code;
      const transport =
        code === ClientErrorCode.Timeout ||
        code === ClientErrorCode.Disconnected ||
        code === ClientErrorCode.NotConnected;
      if (code === ClientErrorCode.Closed) return;
      if ((transport || RETRYABLE.has(code) || code === ErrorCode.NotJoined) && p.attempts < MAX_ATTEMPTS) {
        // Sent again with the same client id: after the next `joined`, or soon if still joined.
        const delay =
          code === ClientErrorCode.Disconnected || code === ClientErrorCode.NotConnected ? 0 : 500 * p.attempts;
        if (this.#joined) p.retry = setTimeout(() => this.#flush(p), delay);
        return;
      }
      p.done({ ok: false, error: answer.error });
    });
  }

  #scheduleUnmute(until: string | undefined): void {
    clearTimeout(this.#muteTimer);
    if (!until) return;
    const wait = Date.parse(until) - Date.now();
    if (!(wait > 0)) return;
    this.#muteTimer = setTimeout(
      () => {
        if (!this.#state || this.#state.mutedUntil !== until) return;
        const { mutedUntil: _, ...rest } = this.#state;
        this.#state = { ...rest, canSend: !this.#self?.guest };
        this.#changed();
      },
      Math.min(wait + 250, 2 ** 31 - 1),
    );
    (this.#muteTimer as { unref?: () => void }).unref?.();
  }

  #sortedIds(): string[] {
    return [...this.#messages.keys()].sort(compareMessageIds);
  }

  #setStatus(status: ChatStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    this.#changed();
  }

  #changed(): void {
    this.#snapshot = null;
    if (this.#batch) {
      this.#batch.changed = true;
      return;
    }
    this.emit('change', this.snapshot);
  }

  #build(): ChatSnapshot {
    const selfId = this.#self?.userId;
    const messages: ChatItem[] = this.#sortedIds().map((id) => {
      const m = this.#messages.get(id)!;
      const t = m.translation;
      const translated = t.status === 'ok' && !m.showOriginal;
      return {
        kind: 'message',
        key: m.message.author.userId === selfId ? `c:${m.message.clientId}` : `m:${id}`,
        id: m.message.id,
        clientId: m.message.clientId,
        author: m.message.author,
        language: m.message.language,
        original: m.message.text,
        sentAt: m.message.sentAt,
        mine: m.message.author.userId === selfId,
        delivery: 'sent',
        translation: t,
        showOriginal: m.showOriginal,
        text: translated ? t.text : m.message.text,
        translated,
        reactions: CHAT_REACTIONS.flatMap((emoji) => {
          const r = m.reactions.get(emoji);
          return r && r.count > 0 ? [{ emoji, count: r.count, mine: r.mine }] : [];
        }),
      };
    });
    // Tips between the messages by time (both times are the server's).
    const items: ChatItem[] = [];
    const tips = [...this.#tips].sort((a, b) => a.at.localeCompare(b.at));
    let ti = 0;
    for (const item of messages) {
      const at = (item as ChatMessageItem).sentAt;
      while (ti < tips.length && tips[ti]!.at < at) items.push(tips[ti++]!);
      items.push(item);
    }
    while (ti < tips.length) items.push(tips[ti++]!);
    const state = this.#state;
    const language = state?.language ?? this.#o.language ?? 'en';
    const selfAuthor: ChatAuthor = {
      userId: (selfId ?? '') as UserId,
      displayName: this.#self?.displayName ?? '',
      moderator: state?.canModerate ?? this.#host,
    };
    for (const p of this.#pending.values()) {
      if (p.storedId !== undefined && this.#messages.has(p.storedId)) continue;
      items.push({
        kind: 'message',
        key: `c:${p.clientId}`,
        id: null,
        clientId: p.clientId,
        author: selfAuthor,
        language,
        original: p.text,
        sentAt: p.sentAt,
        mine: true,
        delivery: 'sending',
        translation: { status: 'original' },
        showOriginal: false,
        text: p.text,
        translated: false,
        reactions: [],
      });
    }
    const guest = this.#self?.guest ?? false;
    // Before the server's chat:state (it is not sent again when a join resumes a slot): what `joined` tells.
    const canSend = state ? state.canSend && !guest : this.#self !== null && !guest;
    return {
      status: this.#status,
      roomId: this.#roomId,
      self: this.#self,
      language,
      engine: state?.engine ?? null,
      translationAvailable: state ? state.translationAvailable && state.engine !== 'none' : true,
      canSend,
      canModerate: state?.canModerate ?? this.#host,
      mutedUntil: state?.mutedUntil ?? null,
      slowModeSeconds: state?.slowModeSeconds ?? 0,
      blockedWords: state?.blockedWords ?? [],
      maxLength: state?.maxLength ?? MAX_CHAT_LENGTH,
      items,
      hasMore: this.#hasMore,
      loadingOlder: this.#loadingOlder,
      restrictions: new Map(this.#restrictions),
      error: this.#error,
      removed: this.#removed,
      endReason: this.#endReason,
    };
  }
}

/** Omit over each member of a union (moderation requests differ by action). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
