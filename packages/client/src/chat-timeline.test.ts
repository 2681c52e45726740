import { asChatMessageId, asRoomId, asUserId, type ChatMessage, type ChatMessageId } from '@fusionflow/protocol';
import { describe, expect, it } from 'vitest';
import { ChatTimeline, compareMessageIds } from './chat-timeline.js';

const T0 = Date.UTC(2026, 0, 1);

function message(id: number, over: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id: asChatMessageId(id),
    roomId: asRoomId('room-1'),
    clientId: `c${id}`,
    author: { userId: asUserId('u1'), displayName: 'Ana', moderator: false },
    language: 'en',
    text: `hello ${id}`,
    sentAt: new Date(T0 + id * 1000).toISOString(),
    reactions: [],
    ...over,
  };
}

function setup(o: { maxMessages?: number; now?: number } = {}) {
  const forgotten: ChatMessageId[] = [];
  const timeline = new ChatTimeline({
    ...(o.maxMessages !== undefined ? { maxMessages: o.maxMessages } : {}),
    now: () => o.now ?? T0 + 3_600_000,
    onForget: (id) => forgotten.push(id),
  });
  return { timeline, forgotten };
}

describe('compareMessageIds', () => {
  it('orders decimal ids by value, not text', () => {
    expect(['10', '9', '100', '11'].sort(compareMessageIds)).toEqual(['9', '10', '11', '100']);
  });
});

describe('ChatTimeline', () => {
  it('keeps messages in id order whatever order they come in', () => {
    const { timeline } = setup();
    for (const id of [12, 3, 100, 7]) timeline.upsert(message(id), 'live');
    expect(timeline.ids()).toEqual(['3', '7', '12', '100']);
    expect(timeline.oldestId()).toBe('3');
  });

  it('a message that arrives live and again in history is one entry, updated', () => {
    const { timeline } = setup();
    expect(timeline.upsert(message(5), 'live').added).toBe(true);
    const again = timeline.applyHistory(
      [message(4), message(5, { reactions: [{ emoji: '🔥', count: 2, mine: false }] })],
      false,
      undefined,
    );
    expect(again.map((u) => [u.message.id, u.added])).toEqual([
      ['4', true],
      ['5', false],
    ]);
    expect(timeline.size).toBe(2);
    expect(timeline.entries().map((e) => e.message.id)).toEqual(['4', '5']);
    expect(timeline.entries()[1]!.reactions.get('🔥')).toEqual({ count: 2, mine: false });
    // And twice live: still one.
    expect(timeline.upsert(message(5), 'live').added).toBe(false);
    expect(timeline.size).toBe(2);
  });

  it('an out-of-order history page is sorted, and its range reconciled by value', () => {
    const { timeline, forgotten } = setup();
    for (const id of [8, 9, 10, 11]) timeline.upsert(message(id), 'live');
    // 10 was deleted meanwhile; the page comes newest first.
    const result = timeline.applyHistory([message(11), message(9), message(8)], true, undefined);
    expect(result.map((u) => u.message.id)).toEqual(['8', '9', '11']);
    expect(timeline.ids()).toEqual(['8', '9', '11']);
    expect(forgotten).toEqual(['10']);
    expect(timeline.hasMore).toBe(true);
    expect(timeline.historyLoaded).toBe(true);
  });

  it('an older page adds without dropping anything and says whether there is more', () => {
    const { timeline, forgotten } = setup();
    timeline.applyHistory([message(5), message(6)], true, undefined);
    timeline.applyHistory([message(2), message(1), message(3)], false, asChatMessageId(5));
    expect(timeline.ids()).toEqual(['1', '2', '3', '5', '6']);
    expect(forgotten).toEqual([]);
    expect(timeline.hasMore).toBe(false);
  });

  it('the newest page of a room with older messages shown keeps hasMore as the older pages said', () => {
    const { timeline } = setup();
    timeline.applyHistory([message(1), message(2)], false, undefined);
    timeline.upsert(message(3), 'live');
    // A rejoin's newest page (after 1 and 2 are known) must not say "more" for what was loaded already.
    timeline.applyHistory([message(2), message(3)], true, undefined);
    expect(timeline.hasMore).toBe(false);
  });

  it('an empty newest page with nothing more drops what is shown except messages of the last seconds', () => {
    const now = T0 + 10_000;
    const { timeline, forgotten } = setup({ now });
    timeline.upsert(message(1), 'live');
    timeline.upsert(message(8), 'live');
    timeline.applyHistory([], false, undefined);
    expect(timeline.ids()).toEqual(['8']);
    expect(forgotten).toEqual(['1']);
  });

  it('deletes, reacts and toggles only what it shows', () => {
    const { timeline, forgotten } = setup();
    timeline.upsert(message(1), 'live');
    const one = asChatMessageId(1);
    const missing = asChatMessageId(99);
    expect(timeline.setReaction(one, '👍', 2, true)).toBe(true);
    expect(timeline.reactedWith(one, '👍')).toBe(true);
    expect(timeline.setReaction(one, '👍', 3, undefined)).toBe(true);
    expect(timeline.entries()[0]!.reactions.get('👍')).toEqual({ count: 3, mine: true });
    expect(timeline.setReaction(one, '👍', 0, false)).toBe(true);
    expect(timeline.entries()[0]!.reactions.size).toBe(0);
    expect(timeline.toggleOriginal(one)).toBe(true);
    expect(timeline.entries()[0]!.showOriginal).toBe(true);
    expect(timeline.setReaction(missing, '👍', 1, true)).toBe(false);
    expect(timeline.toggleOriginal(missing)).toBe(false);
    expect(timeline.remove(missing)).toBe(false);
    expect(timeline.remove(one)).toBe(true);
    expect(timeline.size).toBe(0);
    expect(forgotten).toEqual(['1']);
  });

  it('keeps maxMessages as live ones arrive: the oldest go and can be loaded again', () => {
    const { timeline, forgotten } = setup({ maxMessages: 3 });
    for (const id of [1, 2, 3, 4, 5]) timeline.upsert(message(id), 'live');
    expect(timeline.ids()).toEqual(['3', '4', '5']);
    expect(forgotten).toEqual(['1', '2']);
    expect(timeline.hasMore).toBe(true);
  });

  it('entries are copies: changing the timeline later does not change what was handed out', () => {
    const { timeline } = setup();
    timeline.upsert(message(1), 'live');
    const before = timeline.entries();
    timeline.setReaction(asChatMessageId(1), '🔥', 1, false);
    timeline.toggleOriginal(asChatMessageId(1));
    expect(before[0]!.reactions.size).toBe(0);
    expect(before[0]!.showOriginal).toBe(false);
  });

  it('keeps the last tips, each with its own key', () => {
    const timeline = new ChatTimeline({ maxTips: 2 });
    const tip = (amount: number) => ({
      roomId: asRoomId('room-1'),
      from: { userId: asUserId('u2'), displayName: 'Bo' },
      amount,
      at: new Date(T0 + amount).toISOString(),
    });
    timeline.addTip(tip(1));
    timeline.addTip(tip(2));
    timeline.addTip(tip(3));
    expect(timeline.tips().map((t) => [t.key, t.amount])).toEqual([
      ['tip-2', 2],
      ['tip-3', 3],
    ]);
  });
});
