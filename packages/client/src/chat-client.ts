import {
  type Ack,
  type AnyErrorCode,
  asRoomId,
  type ChatBatchEvent,
  type ChatDeleteEvent,
  ChatHistoryResult,
  type ChatMessage,
  type ChatMessageId,
  type ChatModerateRequest,
  type ChatModerationEvent,
  type ChatReactEvent,
  type ChatReaction,
  type ChatSettingsEvent,
  type ChatSettingsRequest,
  type ChatStateEvent,
  type ChatTipEvent,
  type ChatTranslationEvent,
  ClientErrorCode,
  type ClientMessage,
  type ClientMessageName,
  ErrorCode,
  type JoinedMessage,
  type RemovedMessage,
  type RoomId,
  type RoomState,
  type SignalingErrorMessage,
} from '@fusionflow/protocol';
import type { io } from 'socket.io-client';
import { ChatOutbox, type ChatResult } from './chat-outbox.js';
import { ChatRoomRules } from './chat-room-rules.js';
import {
  buildChatSnapshot,
  type ChatMessageItem,
  type ChatSelf,
  type ChatSnapshot,
  type ChatStatus,
} from './chat-snapshot.js';
import { ChatTimeline } from './chat-timeline.js';
import { ChatTranslations } from './chat-translations.js';
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

function randomClientId(): string {
  const bytes = new Uint8Array(12);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const failure = (code: AnyErrorCode, message: string, o: FusionFlowErrorOptions = {}): FusionFlowError =>
  new FusionFlowError(code, message, o);

/**
 * The chat of one room, framework-free, and the owner of its parts: the `ChatTimeline` (messages in order,
 * each once, reconciled with history pages; reactions, deletions, tips), the `ChatTranslations` (merged
 * whenever they come), the `ChatOutbox` (the reader's sends, retried with the same client id until stored)
 * and the `ChatRoomRules` (chat state, settings, moderation seen). After each update it builds one immutable snapshot
 * (`buildChatSnapshot`) and emits `change` (React: useSyncExternalStore with `subscribe` and `getSnapshot`);
 * a `chat:batch` is one update.
 *
 * It shares a connection that joins the room (a call's: pass `callClient.signaling` or attach on
 * the call's `connection` event), or opens its own with `ChatClient.connect` (a live room's page,
 * where there is no call) and joins the room itself, again after every reconnect.
 */
export class ChatClient extends Emitter<ChatEvents> {
  readonly #o: ChatClientOptions;
  readonly #c: ChatTransport;
  readonly #roomId: RoomId;
  readonly #timeline: ChatTimeline;
  readonly #translations: ChatTranslations;
  readonly #outbox: ChatOutbox;
  readonly #rules: ChatRoomRules;
  readonly #offs: Array<() => void> = [];
  #status: ChatStatus = 'connecting';
  #joined = false;
  #self: ChatSelf | null = null;
  /** The reader hosts the room (moderates it even before `chat:state` says). */
  #host = false;
  #loadingOlder = false;
  #error: FusionFlowError | null = null;
  #removed: RemovedMessage | null = null;
  #endReason: string | null = null;
  #resume: string | undefined;
  #snapshot: ChatSnapshot | null = null;
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
    this.#rules = new ChatRoomRules({ self: () => this.#self, onExpire: () => this.#changed() });
    this.#translations = new ChatTranslations({
      readerLanguage: () => this.#rules.state?.language ?? this.#o.language,
      engineAvailable: () => {
        const state = this.#rules.state;
        return state ? state.engine !== 'none' && state.translationAvailable : undefined;
      },
      ...(options.translationTimeoutMs !== undefined ? { timeoutMs: options.translationTimeoutMs } : {}),
      onTimeout: () => this.#changed(),
    });
    this.#timeline = new ChatTimeline({
      ...(options.maxMessages !== undefined ? { maxMessages: options.maxMessages } : {}),
      onForget: (id) => this.#translations.forget(id),
    });
    this.#outbox = new ChatOutbox({
      transmit: (send) => this.#request('chat:send', { roomId: this.#roomId, ...send }),
      canSend: () => this.#joined && !this.#closed,
      finalError: () =>
        this.#isFinal() ? (this.#error ?? failure(ClientErrorCode.Closed, 'the chat is closed')) : null,
      onStored: (message) => this.#store(message, 'live'),
      onChange: () => this.#changed(),
    });
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
    this.#snapshot ??= buildChatSnapshot({
      status: this.#status,
      roomId: this.#roomId,
      self: this.#self,
      host: this.#host,
      state: this.#rules.state,
      requestedLanguage: this.#o.language,
      messages: this.#timeline.entries(),
      translation: (id) => this.#translations.view(id),
      tips: this.#timeline.tips(),
      outgoing: this.#outbox.outgoing((id) => this.#timeline.has(id)),
      hasMore: this.#timeline.hasMore,
      loadingOlder: this.#loadingOlder,
      restrictions: this.#rules.restrictions,
      error: this.#error,
      removed: this.#removed,
      endReason: this.#endReason,
    });
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
    const refuse = (error: FusionFlowError) => Promise.resolve({ ok: false as const, error });
    if (this.#closed) return refuse(failure(ClientErrorCode.Closed, 'the chat is closed'));
    if (this.#isFinal()) return refuse(this.#error ?? failure(ClientErrorCode.Closed, 'the chat is closed'));
    if (trimmed.length === 0) return refuse(failure(ErrorCode.ValidationFailed, 'the message is empty'));
    const maxLength = this.snapshot.maxLength;
    if ([...trimmed].length > maxLength) {
      return refuse(failure(ErrorCode.PayloadTooLarge, `a message has ${maxLength} characters at most`));
    }
    if (this.#self?.guest) return refuse(failure(ErrorCode.Forbidden, 'sign in to chat'));
    return this.#outbox.add((this.#o.newClientId ?? randomClientId)(), trimmed);
  }

  /** Load the page of messages before the oldest one shown. */
  async loadOlder(): Promise<ChatResult> {
    const oldest = this.#timeline.oldestId();
    if (!this.#joined || this.#loadingOlder || !this.#timeline.hasMore || oldest === undefined) return { ok: true };
    this.#loadingOlder = true;
    this.#changed();
    try {
      return await this.#loadHistory(oldest);
    } finally {
      this.#loadingOlder = false;
      this.#changed();
    }
  }

  /** Show the original of a message instead of its translation, or back. */
  toggleOriginal(messageId: ChatMessageId): void {
    if (this.#timeline.toggleOriginal(messageId)) this.#changed();
  }

  /** Give a reaction, or take one's own back. */
  async react(messageId: ChatMessageId, emoji: ChatReaction, on?: boolean): Promise<ChatResult<{ count: number }>> {
    const want = on ?? !this.#timeline.reactedWith(messageId, emoji);
    const answer = await this.#request<{ count: number }>('chat:react', {
      roomId: this.#roomId,
      messageId,
      emoji,
      on: want,
    });
    if (answer.ok && this.#timeline.setReaction(messageId, emoji, answer.count, want)) this.#changed();
    return answer;
  }

  /** Delete a message (one's own, or anybody's for those who moderate). */
  async delete(messageId: ChatMessageId): Promise<ChatResult> {
    const answer = await this.#request('chat:delete', { roomId: this.#roomId, messageId });
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
    if (answer.ok && this.#rules.setSettings(answer.slowModeSeconds, answer.blockedWords)) this.#changed();
    return answer;
  }

  /**
   * Stop: listeners, its parts' timers and (when it is its own) the connection. Pending sends resolve
   * as failed. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs) off();
    this.#rules.close();
    this.#translations.close();
    this.#outbox.close();
    this.#o.owned?.close();
    if (!this.#isFinalStatus()) this.#status = 'closed';
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
    if (s === 'reconnecting') this.#setStatus(this.#timeline.historyLoaded ? 'reconnecting' : 'connecting');
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
    this.#outbox.flush();
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
    this.#outbox.failWaiting(error);
  }

  #isFinalStatus(): boolean {
    return this.#status === 'removed' || this.#status === 'ended' || this.#status === 'failed';
  }

  #isFinal(): boolean {
    return this.#closed || this.#isFinalStatus();
  }

  // --- server events --------------------------------------------------------------------------

  #onState(state: ChatStateEvent): void {
    if (state.roomId !== this.#roomId) return;
    // No translation is coming: say so now rather than after the timeout.
    if (this.#rules.setState(state)) this.#translations.engineDown();
    this.#changed();
  }

  #onMessage(message: ChatMessage): void {
    if (message.roomId !== this.#roomId) return;
    const arrived = this.#applyLive(message);
    if (arrived === null) return;
    this.#changed();
    this.#announce(arrived ? [message.id] : []);
  }

  /**
   * The server's batch applied in one step: every message and translation goes into the timeline first,
   * then one snapshot is built and announced with one `change`, then the `message` events.
   */
  #onBatch(b: ChatBatchEvent): void {
    if (b.roomId !== this.#roomId) return;
    let changed = false;
    const arrived: ChatMessageId[] = [];
    for (const m of b.messages) {
      if (m.roomId !== this.#roomId) continue;
      const fromOthers = this.#applyLive(m);
      if (fromOthers === null) continue;
      changed = true;
      if (fromOthers) arrived.push(m.id);
    }
    for (const t of b.translations) if (t.roomId === this.#roomId && this.#applyTranslation(t)) changed = true;
    if (changed) this.#changed();
    this.#announce(arrived);
  }

  /**
   * A live message into the timeline, without announcing it. Null: seen before (nothing to announce);
   * otherwise whether it came from someone else.
   */
  #applyLive(message: ChatMessage): boolean | null {
    const added = this.#store(message, 'live');
    if (!added) return null;
    const mine = message.author.userId === this.#self?.userId;
    if (mine) this.#outbox.echoed(message);
    return !mine;
  }

  /** Into the timeline and its translations; true when it is new there. */
  #store(message: ChatMessage, from: 'live' | 'history'): boolean {
    const { message: stored, added } = this.#timeline.upsert(message, from);
    this.#translations.track(stored, from, added);
    return added;
  }

  /** `message` events for messages that arrived from others (live). */
  #announce(ids: readonly ChatMessageId[]): void {
    if (ids.length === 0) return;
    const wanted = new Set(ids);
    for (const item of this.snapshot.items) {
      if (item.kind === 'message' && item.id !== null && wanted.has(item.id)) this.emit('message', item);
    }
  }

  #onTranslation(t: ChatTranslationEvent): void {
    if (t.roomId === this.#roomId && this.#applyTranslation(t)) this.#changed();
  }

  /** True when a shown message reads differently now. */
  #applyTranslation(t: ChatTranslationEvent): boolean {
    return this.#translations.receive(
      t.messageId,
      { language: t.language, status: t.status, ...(t.text !== undefined ? { text: t.text } : {}) },
      this.#timeline.message(t.messageId),
    );
  }

  #onDelete(e: ChatDeleteEvent): void {
    if (e.roomId === this.#roomId) this.#remove(e.messageId);
  }

  #onReact(e: ChatReactEvent): void {
    if (e.roomId !== this.#roomId) return;
    const mine = e.userId === this.#self?.userId ? e.on : undefined;
    if (this.#timeline.setReaction(e.messageId, e.emoji, e.count, mine)) this.#changed();
  }

  #onModeration(e: ChatModerationEvent): void {
    if (e.roomId !== this.#roomId) return;
    this.#rules.moderation(e);
    this.#changed();
  }

  #onSettings(e: ChatSettingsEvent): void {
    if (e.roomId === this.#roomId && this.#rules.setSettings(e.slowModeSeconds, e.blockedWords)) this.#changed();
  }

  #onTip(e: ChatTipEvent): void {
    if (e.roomId !== this.#roomId) return;
    this.#timeline.addTip(e);
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
    if (this.#closed) return { ok: true };
    for (const { message, added } of this.#timeline.applyHistory(parsed.data.messages, parsed.data.hasMore, before)) {
      this.#translations.track(message, 'history', added);
    }
    this.#changed();
    return { ok: true };
  }

  #remove(messageId: ChatMessageId): void {
    if (this.#timeline.remove(messageId)) this.#changed();
    // Not shown: a translation that came before it is not needed any more.
    else this.#translations.forget(messageId);
  }

  #setStatus(status: ChatStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    this.#changed();
  }

  #changed(): void {
    this.#snapshot = null;
    this.emit('change', this.snapshot);
  }
}

/** Omit over each member of a union (moderation requests differ by action). */
export type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
