import { asRoomId, type ChatMessage } from '@fusionflow/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RealtimeGateway } from '../realtime/realtime-gateway.js';
import { ChatFanout } from './chat-fanout.js';

const room = asRoomId('r1');
const msg = (id: string) => ({ id }) as unknown as ChatMessage;

function fakeGateway() {
  const sent: { name: string; body: unknown }[] = [];
  const gateway = {
    emitToRoom: (_room: string, name: string, body: unknown) => sent.push({ name, body }),
    emitToRoomLanguage: (_room: string, _language: string, name: string, body: unknown) => sent.push({ name, body }),
  } as unknown as RealtimeGateway;
  return { gateway, sent };
}

describe('ChatFanout', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('batches within the window and sends what waits on close, once', () => {
    vi.useFakeTimers();
    const { gateway, sent } = fakeGateway();
    const fanout = new ChatFanout(gateway, 100);
    fanout.message(room, msg('1'));
    fanout.message(room, msg('2'));
    fanout.message(room, msg('3'));
    expect(sent.map((s) => s.name)).toEqual(['chat:message']);
    fanout.close();
    expect(sent.map((s) => s.name)).toEqual(['chat:message', 'chat:batch']);
    expect((sent[1]!.body as { messages: ChatMessage[] }).messages.map((m) => m.id)).toEqual(['2', '3']);
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(sent).toHaveLength(2);
  });

  it('starts no timer after close: a late event goes at once, by itself', () => {
    vi.useFakeTimers();
    const { gateway, sent } = fakeGateway();
    const fanout = new ChatFanout(gateway, 100);
    fanout.close();
    fanout.message(room, msg('late'));
    fanout.translation(room, { roomId: room, messageId: 'late', language: 'es', status: 'ok', text: 'tarde' } as never);
    expect(vi.getTimerCount()).toBe(0);
    expect(sent.map((s) => s.name)).toEqual(['chat:message', 'chat:translation']);
  });
});
