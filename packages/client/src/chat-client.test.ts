import {
  asChatMessageId,
  asRoomId,
  asUserId,
  type ChatAuthor,
  type ChatMessage,
  type JoinedMessage,
} from '@fusionflow/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatClient } from './chat-client.js';
import type { ChatMessageItem, ChatSnapshot } from './chat-snapshot.js';
import { FusionFlowError } from './fusionflow-error.js';

type Ack = (answer: unknown) => void;
type Handler = (body: Record<string, unknown>, ack?: Ack) => void;

/**
 * A socket.io-client Socket stand-in: the chat client runs over a real SignalingConnection (schema
 * checks both ways) whose `io` returns this. `server` answers what the client emits.
 */
class FakeSocket {
  connected = false;
  id = 'sock-1';
  readonly sent: Array<{ name: string; body: Record<string, unknown> }> = [];
  readonly server: Record<string, Handler> = {};
  readonly #listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  readonly io = { engine: { close: () => this.drop() }, removeAllListeners: () => undefined };

  on(name: string, listener: (...args: unknown[]) => void): this {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener);
    return this;
  }
  removeAllListeners(): this {
    this.#listeners.clear();
    return this;
  }
  connect(): this {
    this.connected = true;
    this.fire('connect');
    return this;
  }
  disconnect(): this {
    this.connected = false;
    return this;
  }
  /** The client sends. */
  emit(name: string, body: Record<string, unknown>, ack?: Ack): this {
    this.sent.push({ name, body });
    this.server[name]?.(body, ack);
    return this;
  }
  /** The server sends. */
  fire(name: string, ...args: unknown[]): void {
    for (const l of [...(this.#listeners.get(name) ?? [])]) l(...args);
  }
  drop(): void {
    this.connected = false;
    this.fire('disconnect', 'transport close');
  }
  sentNamed(name: string) {
    return this.sent.filter((s) => s.name === name).map((s) => s.body);
  }
}

const ROOM = 'room-1';
const me = { userId: asUserId('u-es'), displayName: 'Lucía' };
const streamer = { userId: asUserId('u-en'), displayName: 'Sam' };
/** The reader as the author of a stored message. */
const meAuthor: ChatAuthor = { ...me, moderator: false };
const id = asChatMessageId;

function joined(resumed = false): JoinedMessage {
  const self = {
    peerId: 'p1',
    ...me,
    role: 'participant',
    guest: false,
    media: { camera: false, mic: false, screen: false },
    connected: true,
    joinedAt: '2026-01-01T00:00:00.000Z',
  };
  return {
    self,
    roomState: { roomId: ROOM, kind: 'live', status: 'live', capacity: null, peers: [self] },
    links: [],
    resumed,
    resumeToken: 'p1.secret',
    graceSeconds: 30,
  } as unknown as JoinedMessage;
}

function message(id: number, over: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id: asChatMessageId(id),
    roomId: asRoomId(ROOM),
    clientId: `c${id}`,
    author: { ...streamer, moderator: true },
    language: 'en',
    text: `hello ${id}`,
    sentAt: new Date(Date.UTC(2026, 0, 1, 0, 0, id)).toISOString(),
    reactions: [],
    ...over,
  };
}

const state = {
  roomId: ROOM,
  language: 'es',
  engine: 'apertium',
  translationAvailable: true,
  canModerate: false,
  canSend: true,
  slowModeSeconds: 0,
  maxLength: 500,
};

let clients: ChatClient[] = [];
afterEach(() => {
  for (const c of clients) c.close();
  clients = [];
  vi.useRealTimers();
});

/** A chat client on a fake socket whose server joins and answers history with `history`. */
function setup(
  history: { messages: ChatMessage[]; hasMore: boolean } = { messages: [], hasMore: false },
  onJoin?: (socket: FakeSocket) => void,
) {
  const socket = new FakeSocket();
  let page = history;
  socket.server.join = () => {
    queueMicrotask(() => {
      socket.fire('joined', joined());
      onJoin?.(socket);
      socket.fire('chat:state', state);
    });
  };
  socket.server['chat:history'] = (body, ack) => {
    const before = body.before as string | undefined;
    const messages = before ? page.messages.filter((m) => Number(m.id) < Number(before)) : page.messages;
    queueMicrotask(() => ack?.({ ok: true, messages, hasMore: before ? false : page.hasMore }));
  };
  let n = 0;
  const chat = ChatClient.connect({
    token: () => 'token',
    roomId: ROOM,
    language: 'es',
    io: (() => socket) as never,
    newClientId: () => `cid${++n}`,
  });
  clients.push(chat);
  const setHistory = (h: typeof page) => {
    page = h;
  };
  return { socket, chat, setHistory };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const messagesOf = (s: ChatSnapshot) => s.items.filter((i): i is ChatMessageItem => i.kind === 'message');

describe('ChatClient', () => {
  it('joins with the reader language, loads history in order and merges a translation that came first', async () => {
    const { socket, chat } = setup(
      {
        messages: [message(7), message(9, { translation: { language: 'es', status: 'ok', text: 'hola 9' } })],
        hasMore: true,
      },
      // A translation before history brought its message.
      (s) => s.fire('chat:translation', { roomId: ROOM, messageId: '7', language: 'es', status: 'ok', text: 'hola 7' }),
    );
    await vi.waitFor(() => expect(chat.status).toBe('ready'));
    await settle();
    expect(socket.sentNamed('join')).toEqual([{ roomId: ROOM, language: 'es' }]);
    const s = chat.snapshot;
    expect(messagesOf(s).map((m) => [m.id, m.text, m.translated])).toEqual([
      ['7', 'hola 7', true],
      ['9', 'hola 9', true],
    ]);
    expect(s.hasMore).toBe(true);
    expect(s.canSend).toBe(true);
    expect(s.language).toBe('es');
  });

  it('applies a chat:batch in one step: one change, then a message event per arrival', async () => {
    const { socket, chat } = setup();
    await vi.waitFor(() => expect(chat.status).toBe('ready'));
    const changes: number[] = [];
    const arrived: string[] = [];
    chat.on('change', (s) => changes.push(messagesOf(s).length));
    chat.on('message', (m) => arrived.push(m.id!));
    socket.fire('chat:batch', {
      roomId: ROOM,
      messages: [message(30), message(31), message(32)],
      translations: [{ roomId: ROOM, messageId: '31', language: 'es', status: 'ok', text: 'hola 31' }],
    });
    expect(changes).toEqual([3]);
    expect(arrived).toEqual(['30', '31', '32']);
    expect(messagesOf(chat.snapshot)[1]).toMatchObject({ text: 'hola 31', translated: true });
    // A batch for another room changes nothing.
    socket.fire('chat:batch', {
      roomId: 'other',
      messages: [message(40, { roomId: asRoomId('other') })],
      translations: [],
    });
    expect(changes).toEqual([3]);
  });

  it('a chat:batch of N messages emits one change (one snapshot) however large it is', async () => {
    const { socket, chat } = setup();
    await vi.waitFor(() => expect(chat.status).toBe('ready'));
    await settle();
    const N = 50;
    const snapshots: ChatSnapshot[] = [];
    const arrived: ChatMessageItem[] = [];
    chat.on('change', (s) => snapshots.push(s));
    chat.on('message', (m) => arrived.push(m));
    const messages = Array.from({ length: N }, (_, i) => message(100 + i));
    socket.fire('chat:batch', {
      roomId: ROOM,
      messages,
      translations: messages.map((m) => ({
        roomId: ROOM,
        messageId: m.id,
        language: 'es',
        status: 'ok',
        text: `hola ${m.id}`,
      })),
    });
    expect(snapshots).toHaveLength(1);
    expect(messagesOf(snapshots[0]!)).toHaveLength(N);
    expect(messagesOf(snapshots[0]!).every((m) => m.translated)).toBe(true);
    expect(chat.snapshot).toBe(snapshots[0]);
    // The message events read the same snapshot's items.
    expect(arrived).toHaveLength(N);
    expect(arrived[0]).toBe(messagesOf(snapshots[0]!)[0]);
    // A batch of messages already shown changes nothing.
    socket.fire('chat:batch', { roomId: ROOM, messages: messages.slice(0, 5), translations: [] });
    expect(snapshots).toHaveLength(1);
    expect(arrived).toHaveLength(N);
  });

  it('shows the original at once, then the translation; the toggle shows the original again', async () => {
    const { socket, chat } = setup();
    await vi.waitFor(() => expect(chat.status).toBe('ready'));
    const changes: number[] = [];
    chat.on('change', (s) => changes.push(s.items.length));
    socket.fire('chat:message', message(12, { text: 'the house is big' }));
    let item = messagesOf(chat.snapshot)[0]!;
    expect(item).toMatchObject({ text: 'the house is big', translated: false, translation: { status: 'pending' } });
    socket.fire('chat:translation', {
      roomId: ROOM,
      messageId: '12',
      language: 'es',
      status: 'ok',
      text: 'la casa es grande',
    });
    item = messagesOf(chat.snapshot)[0]!;
    expect(item).toMatchObject({ text: 'la casa es grande', translated: true, original: 'the house is big' });
    chat.toggleOriginal(id('12'));
    expect(messagesOf(chat.snapshot)[0]).toMatchObject({
      text: 'the house is big',
      translated: false,
      showOriginal: true,
    });
    chat.toggleOriginal(id('12'));
    expect(messagesOf(chat.snapshot)[0]!.text).toBe('la casa es grande');
    // An unsupported pair is reported, and a message in the reader's own language needs nothing.
    socket.fire('chat:message', message(13, { language: 'fi', text: 'hei' }));
    socket.fire('chat:translation', { roomId: ROOM, messageId: '13', language: 'es', status: 'unsupported' });
    socket.fire('chat:message', message(14, { language: 'es', text: 'hola' }));
    const [, m13, m14] = messagesOf(chat.snapshot);
    expect(m13!.translation).toEqual({ status: 'unsupported' });
    expect(m13!.text).toBe('hei');
    expect(m14!.translation).toEqual({ status: 'original' });
    expect(changes.length).toBeGreaterThan(0);
  });

  it('takes a chat:batch as the messages and translations it holds, a translation before its message too', async () => {
    const { socket, chat } = setup();
    await vi.waitFor(() => expect(chat.status).toBe('ready'));
    socket.fire('chat:translation', { roomId: ROOM, messageId: '21', language: 'es', status: 'ok', text: 'el perro' });
    socket.fire('chat:batch', {
      roomId: ROOM,
      messages: [message(20, { text: 'the cat' }), message(21, { text: 'the dog' })],
      translations: [{ roomId: ROOM, messageId: '20', language: 'es', status: 'ok', text: 'el gato' }],
    });
    expect(messagesOf(chat.snapshot).map((m) => [m.id, m.text, m.translated])).toEqual([
      ['20', 'el gato', true],
      ['21', 'el perro', true],
    ]);
  });

  it('a translation that never comes counts as unavailable; no engine says so at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const socket = new FakeSocket();
    socket.server.join = () => {
      socket.fire('joined', joined());
    };
    socket.server['chat:history'] = (_b, ack) => ack?.({ ok: true, messages: [], hasMore: false });
    const chat = ChatClient.connect({
      token: () => 't',
      roomId: ROOM,
      language: 'es',
      io: (() => socket) as never,
      translationTimeoutMs: 1000,
    });
    clients.push(chat);
    await vi.waitFor(() => expect(chat.status).toBe('ready'));
    socket.fire('chat:message', message(1));
    expect(messagesOf(chat.snapshot)[0]!.translation.status).toBe('pending');
    vi.advanceTimersByTime(1100);
    expect(messagesOf(chat.snapshot)[0]!.translation.status).toBe('unavailable');
    socket.fire('chat:message', message(2));
    socket.fire('chat:state', { ...state, engine: 'none', translationAvailable: false });
    expect(messagesOf(chat.snapshot)[1]!.translation.status).toBe('unavailable');
    expect(chat.snapshot.translationAvailable).toBe(false);
    socket.fire('chat:message', message(3));
    expect(messagesOf(chat.snapshot)[2]!.translation.status).toBe('unavailable');
  });

  it('a send shows at once and becomes one stored message, even when the echo comes before the ack', async () => {
    const { socket, chat } = setup();
    await vi.waitFor(() => expect(chat.status).toBe('ready'));
    socket.server['chat:send'] = (body, ack) => {
      const stored = message(20, {
        clientId: body.clientId as string,
        author: meAuthor,
        language: 'es',
        text: body.text as string,
      });
      queueMicrotask(() => {
        socket.fire('chat:message', stored);
        ack?.({ ok: true, message: stored, duplicate: false });
      });
    };
    const sending = chat.send('  La casa es grande  ');
    const pending = messagesOf(chat.snapshot);
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({ delivery: 'sending', text: 'La casa es grande', mine: true, id: null });
    const result = await sending;
    expect(result.ok).toBe(true);
    const after = messagesOf(chat.snapshot);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: '20', delivery: 'sent', mine: true, key: pending[0]!.key });
  });

  it('sends again with the same client id after a reconnect; the server stores it once', async () => {
    const { socket, chat } = setup();
    await vi.waitFor(() => expect(chat.status).toBe('ready'));
    const stored = new Map<string, ChatMessage>();
    let answer = false;
    socket.server['chat:send'] = (body, ack) => {
      const clientId = body.clientId as string;
      const duplicate = stored.has(clientId);
      if (!duplicate) {
        stored.set(clientId, message(30, { clientId, author: meAuthor, language: 'es' }));
      }
      // The first answer is lost with the connection.
      if (answer) queueMicrotask(() => ack?.({ ok: true, message: stored.get(clientId), duplicate }));
    };
    const sending = chat.send('hola');
    await settle();
    socket.drop();
    expect(chat.status).toBe('reconnecting');
    expect(messagesOf(chat.snapshot)[0]!.delivery).toBe('sending');
    answer = true;
    socket.connect();
    const result = await sending;
    expect(result.ok).toBe(true);
    const sends = socket.sentNamed('chat:send');
    expect(sends).toHaveLength(2);
    expect(new Set(sends.map((s) => s.clientId)).size).toBe(1);
    expect(stored.size).toBe(1);
    expect(messagesOf(chat.snapshot)).toHaveLength(1);
    // The rejoin resumed the slot.
    expect(socket.sentNamed('join').at(-1)).toMatchObject({ resume: 'p1.secret' });
  });

  it('a refused send resolves with the coded error and leaves nothing behind', async () => {
    const { socket, chat } = setup();
    await vi.waitFor(() => expect(chat.status).toBe('ready'));
    socket.server['chat:send'] = (_body, ack) =>
      ack?.({ ok: false, error: { code: 'rate_limited', message: 'slow down', retryAfterSeconds: 7 } });
    const result = await chat.send('hola');
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'rate_limited', message: 'slow down', retryAfterSeconds: 7, event: 'chat:send' },
    });
    expect(!result.ok && result.error).toBeInstanceOf(FusionFlowError);
    expect(messagesOf(chat.snapshot)).toHaveLength(0);
    expect((await chat.send('   ')).ok).toBe(false);
    expect(await chat.send('x'.repeat(501))).toMatchObject({ ok: false, error: { code: 'payload_too_large' } });
  });

  it('reactions count with mine, deletions disappear, moderation and settings follow the server', async () => {
    const { socket, chat } = setup({ messages: [message(1), message(2)], hasMore: false });
    await vi.waitFor(() => expect(messagesOf(chat.snapshot)).toHaveLength(2));
    socket.server['chat:react'] = (body, ack) => ack?.({ ok: true, count: body.on ? 2 : 1 });
    socket.fire('chat:react', { roomId: ROOM, messageId: '1', emoji: '🔥', userId: 'u-x', on: true, count: 1 });
    expect(messagesOf(chat.snapshot)[0]!.reactions).toEqual([{ emoji: '🔥', count: 1, mine: false }]);
    await chat.react(id('1'), '🔥');
    expect(socket.sentNamed('chat:react').at(-1)).toMatchObject({ on: true });
    expect(messagesOf(chat.snapshot)[0]!.reactions).toEqual([{ emoji: '🔥', count: 2, mine: true }]);
    await chat.react(id('1'), '🔥');
    expect(socket.sentNamed('chat:react').at(-1)).toMatchObject({ on: false });
    expect(messagesOf(chat.snapshot)[0]!.reactions).toEqual([{ emoji: '🔥', count: 1, mine: false }]);

    socket.fire('chat:delete', { roomId: ROOM, messageId: '1', deletedBy: streamer.userId });
    expect(messagesOf(chat.snapshot).map((m) => m.id)).toEqual(['2']);

    const until = new Date(Date.now() + 60_000).toISOString();
    socket.fire('chat:moderation', { roomId: ROOM, action: 'mute', userId: me.userId, by: streamer.userId, until });
    expect(chat.snapshot).toMatchObject({ canSend: false, mutedUntil: until });
    expect(chat.snapshot.restrictions.get(me.userId)).toEqual({ mutedUntil: until });
    socket.fire('chat:moderation', { roomId: ROOM, action: 'unmute', userId: me.userId, by: streamer.userId });
    expect(chat.snapshot).toMatchObject({ canSend: true, mutedUntil: null });
    socket.fire('chat:settings', { roomId: ROOM, slowModeSeconds: 10 });
    expect(chat.snapshot.slowModeSeconds).toBe(10);
  });

  it('pages back with `before`, and a reconnect drops what was deleted meanwhile', async () => {
    const all = [1, 2, 3, 4, 5].map((id) => message(id));
    const { socket, chat, setHistory } = setup({ messages: all.slice(2), hasMore: true });
    await vi.waitFor(() => expect(messagesOf(chat.snapshot)).toHaveLength(3));
    setHistory({ messages: all, hasMore: false });
    await chat.loadOlder();
    expect(socket.sentNamed('chat:history').at(-1)).toEqual({ roomId: ROOM, before: '3' });
    expect(messagesOf(chat.snapshot).map((m) => m.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(chat.snapshot.hasMore).toBe(false);

    socket.drop();
    setHistory({ messages: all.filter((m) => m.id !== '4'), hasMore: false });
    socket.connect();
    await vi.waitFor(() => expect(messagesOf(chat.snapshot).map((m) => m.id)).toEqual(['1', '2', '3', '5']));
  });

  it('tips sit among the messages by time; a ban ends the chat', async () => {
    const { socket, chat } = setup({ messages: [message(1), message(5)], hasMore: false });
    await vi.waitFor(() => expect(messagesOf(chat.snapshot)).toHaveLength(2));
    socket.fire('chat:tip', {
      roomId: ROOM,
      from: { userId: 'u-x', displayName: 'Ana' },
      amount: 50,
      message: 'great show',
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, 3)).toISOString(),
    });
    expect(chat.snapshot.items.map((i) => (i.kind === 'tip' ? `tip ${i.amount}` : i.id))).toEqual(['1', 'tip 50', '5']);
    socket.fire('removed', { roomId: ROOM, reason: 'moderation', message: 'you were banned from this room' });
    expect(chat.status).toBe('removed');
    expect(chat.snapshot.error).toMatchObject({ code: 'banned' });
    expect(await chat.send('hola')).toMatchObject({ ok: false });
  });

  it('close() stops everything and resolves pending sends', async () => {
    const { socket, chat } = setup();
    await vi.waitFor(() => expect(chat.status).toBe('ready'));
    socket.server['chat:send'] = () => undefined;
    const sending = chat.send('hola');
    chat.close();
    expect(await sending).toMatchObject({ ok: false, error: { code: 'closed' } });
    expect(chat.status).toBe('closed');
    expect(socket.connected).toBe(false);
  });
});
