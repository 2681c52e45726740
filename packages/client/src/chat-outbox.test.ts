import {
  type AnyErrorCode,
  asChatMessageId,
  asRoomId,
  asUserId,
  type ChatMessage,
  ClientErrorCode,
  ErrorCode,
} from '@fusionflow/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatOutbox, type ChatOutboxOptions, type ChatResult } from './chat-outbox.js';
import { FusionFlowError } from './fusionflow-error.js';

/** What the server answers `chat:send` with. */
type SendAnswer = ChatResult<{ message: ChatMessage; duplicate: boolean }>;

function stored(clientId: string, id = 1): ChatMessage {
  return {
    id: asChatMessageId(id),
    roomId: asRoomId('room-1'),
    clientId,
    author: { userId: asUserId('u1'), displayName: 'Ana', moderator: false },
    language: 'en',
    text: 'hello',
    sentAt: '2026-01-01T00:00:00.000Z',
    reactions: [],
  };
}

const refused = (code: AnyErrorCode, message: string = code, retryAfterSeconds?: number): ChatResult => ({
  ok: false,
  error: new FusionFlowError(code, message, retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
});

/** An outbox whose `transmit` answers with what the test queues (or waits, for `hold`). */
function setup(over: Partial<ChatOutboxOptions> = {}) {
  const sent: Array<{ clientId: string; text: string }> = [];
  const answers: Array<(send: { clientId: string }) => ChatResult | Promise<ChatResult>> = [];
  const storedMessages: ChatMessage[] = [];
  let changes = 0;
  let joined = true;
  let final: FusionFlowError | null = null;
  const outbox = new ChatOutbox({
    transmit: async (send) => {
      sent.push(send);
      const next = answers.shift();
      return next ? next(send) : { ok: true, message: stored(send.clientId), duplicate: false };
    },
    canSend: () => joined,
    finalError: () => final,
    onStored: (m) => storedMessages.push(m),
    onChange: () => {
      changes += 1;
    },
    random: () => 0,
    ...over,
  });
  return {
    outbox,
    sent,
    answers,
    storedMessages,
    changes: () => changes,
    setJoined: (v: boolean) => {
      joined = v;
    },
    setFinal: (e: FusionFlowError | null) => {
      final = e;
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ChatOutbox', () => {
  it('sends, shows the message as outgoing until acknowledged, then resolves with the stored message', async () => {
    const { outbox, sent, storedMessages, changes } = setup();
    const sending = outbox.add('c1', 'hello');
    expect(outbox.outgoing(() => false)).toEqual([expect.objectContaining({ clientId: 'c1', text: 'hello' })]);
    const result = await sending;
    expect(result).toMatchObject({ ok: true, message: { clientId: 'c1' } });
    expect(sent).toEqual([{ clientId: 'c1', text: 'hello' }]);
    expect(storedMessages.map((m) => m.clientId)).toEqual(['c1']);
    expect(outbox.size).toBe(0);
    expect(changes()).toBe(2);
  });

  it('retries a server failure with backoff and the same client id, then succeeds', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { outbox, sent, answers } = setup();
    answers.push(() => refused(ErrorCode.Internal));
    answers.push(() => refused(ErrorCode.Unavailable, 'busy', 2));
    let result: ChatResult | undefined;
    void outbox.add('c1', 'hello').then((r) => {
      result = r;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(sent).toHaveLength(1);
    // backoffDelay(0) with no jitter drawn: 500 ms.
    await vi.advanceTimersByTimeAsync(499);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(2);
    // The server asked for 2 s (Retry-After), longer than the backoff's 1 s.
    await vi.advanceTimersByTimeAsync(1999);
    expect(sent).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(0);
    expect(result).toMatchObject({ ok: true });
    expect(new Set(sent.map((s) => s.clientId))).toEqual(new Set(['c1']));
  });

  it('a refusal resolves with its code at once, without a retry', async () => {
    const { outbox, sent, answers, storedMessages } = setup();
    answers.push(() => refused(ErrorCode.RateLimited, 'slow down', 7));
    const result = await outbox.add('c1', 'hello');
    expect(result).toMatchObject({ ok: false, error: { code: 'rate_limited', retryAfterSeconds: 7 } });
    expect(sent).toHaveLength(1);
    expect(storedMessages).toHaveLength(0);
    expect(outbox.size).toBe(0);
  });

  it('gives up after maxAttempts retryable failures', async () => {
    const { outbox, sent, answers } = setup({ maxAttempts: 3, backoff: { initialMs: 0, maxMs: 0 } });
    for (let i = 0; i < 5; i++) answers.push(() => refused(ErrorCode.Internal));
    const result = await outbox.add('c1', 'hello');
    expect(result).toMatchObject({ ok: false, error: { code: ErrorCode.Internal } });
    expect(sent).toHaveLength(3);
  });

  it('a duplicate acknowledgement (stored before) is one success; a second answer for it changes nothing', async () => {
    let release: ((r: SendAnswer) => void) | undefined;
    const { outbox, answers, storedMessages, setJoined } = setup();
    answers.push(() => new Promise<SendAnswer>((r) => (release = r)));
    const sending = outbox.add('c1', 'hello');
    // The connection drops while the first attempt is in flight; after the rejoin it is sent again.
    setJoined(false);
    setJoined(true);
    outbox.flush(); // in flight already: not sent twice at once
    release?.({ ok: true, message: stored('c1'), duplicate: true });
    expect(await sending).toMatchObject({ ok: true, message: { clientId: 'c1' } });
    outbox.flush();
    await Promise.resolve();
    expect(storedMessages).toHaveLength(1);
    expect(outbox.size).toBe(0);
  });

  it('an acknowledgement for a client id it does not hold is ignored; one naming another id is invalid', async () => {
    let release: ((r: SendAnswer) => void) | undefined;
    const { outbox, answers, storedMessages } = setup();
    answers.push(() => new Promise<SendAnswer>((r) => (release = r)));
    const sending = outbox.add('c1', 'hello');
    outbox.close();
    expect(await sending).toMatchObject({ ok: false, error: { code: 'closed' } });
    // The answer of the closed send arrives late: nobody is told.
    release?.({ ok: true, message: stored('c1'), duplicate: false });
    await Promise.resolve();
    expect(storedMessages).toHaveLength(0);
    expect(outbox.echoed(stored('unknown'))).toBe(false);

    const other = setup();
    other.answers.push(() => ({ ok: true, message: stored('someone-else'), duplicate: false }));
    expect(await other.outbox.add('c2', 'hi')).toMatchObject({ ok: false, error: { code: 'invalid_response' } });
    expect(other.storedMessages).toHaveLength(0);
  });

  it('waits while not joined and sends on flush; a dropped connection resends after the next join', async () => {
    const { outbox, sent, answers, setJoined } = setup();
    setJoined(false);
    const sending = outbox.add('c1', 'hello');
    await Promise.resolve();
    expect(sent).toHaveLength(0);
    setJoined(true);
    answers.push(() => {
      setJoined(false);
      return refused(ClientErrorCode.Disconnected);
    });
    outbox.flush();
    await vi.waitFor(() => expect(sent).toHaveLength(1));
    await Promise.resolve();
    expect(outbox.size).toBe(1);
    setJoined(true);
    outbox.flush();
    expect(await sending).toMatchObject({ ok: true });
    expect(sent.map((s) => s.clientId)).toEqual(['c1', 'c1']);
  });

  it('an echo before the acknowledgement hides the outgoing copy once the timeline has it', () => {
    const { outbox, setJoined } = setup();
    setJoined(false);
    void outbox.add('c1', 'hello');
    expect(outbox.echoed(stored('c1', 9))).toBe(true);
    expect(outbox.outgoing(() => false)).toHaveLength(1);
    expect(outbox.outgoing((id) => id === '9')).toHaveLength(0);
  });

  it('fails what waits when the room is gone; refuses a second send with the same client id; refuses after close', async () => {
    const { outbox, setJoined } = setup();
    setJoined(false);
    const a = outbox.add('c1', 'one');
    expect(await outbox.add('c1', 'again')).toMatchObject({ ok: false, error: { code: 'conflict' } });
    outbox.failWaiting(new FusionFlowError('banned', 'banned'));
    expect(await a).toMatchObject({ ok: false, error: { code: 'banned' } });
    outbox.close();
    outbox.close();
    expect(await outbox.add('c3', 'late')).toMatchObject({ ok: false, error: { code: 'closed' } });
  });

  it('an answer that fails once the room is final resolves with the room error', async () => {
    const { outbox, answers, setFinal } = setup();
    answers.push(() => {
      setFinal(new FusionFlowError('room_ended', 'the room has ended'));
      return refused(ErrorCode.Internal);
    });
    expect(await outbox.add('c1', 'hello')).toMatchObject({ ok: false, error: { code: 'room_ended' } });
  });
});
