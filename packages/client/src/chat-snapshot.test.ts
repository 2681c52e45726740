import {
  asChatMessageId,
  asRoomId,
  asUserId,
  type ChatMessage,
  type ChatMessageId,
  type ChatStateEvent,
  MAX_CHAT_LENGTH,
} from '@fusionflow/protocol';
import { describe, expect, it } from 'vitest';
import {
  buildChatSnapshot,
  type ChatMessageItem,
  type ChatSnapshotInput,
  type ChatTranslationView,
} from './chat-snapshot.js';

const ROOM = asRoomId('room-1');
const self = { userId: asUserId('u-me'), displayName: 'Me', guest: false };

function message(id: number, over: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id: asChatMessageId(id),
    roomId: ROOM,
    clientId: `c${id}`,
    author: { userId: asUserId('u-other'), displayName: 'Sam', moderator: false },
    language: 'en',
    text: `hello ${id}`,
    sentAt: new Date(Date.UTC(2026, 0, 1, 0, 0, id)).toISOString(),
    reactions: [],
    ...over,
  };
}

const state: ChatStateEvent = {
  roomId: ROOM,
  language: 'es',
  engine: 'apertium',
  translationAvailable: true,
  canModerate: false,
  canSend: true,
  slowModeSeconds: 5,
  maxLength: 300,
  blockedWords: ['bad'],
};

function input(over: Partial<ChatSnapshotInput> = {}): ChatSnapshotInput {
  const views = new Map<ChatMessageId, ChatTranslationView>([[asChatMessageId(2), { status: 'ok', text: 'hola 2' }]]);
  return {
    status: 'ready',
    roomId: ROOM,
    self,
    host: false,
    state,
    requestedLanguage: 'es',
    messages: [
      { message: message(1), showOriginal: false, reactions: new Map([['🔥', { count: 2, mine: true }]]) },
      { message: message(2), showOriginal: false, reactions: new Map() },
      {
        message: message(4, { author: { ...self, moderator: false }, clientId: 'mine-1' }),
        showOriginal: false,
        reactions: new Map([['👍', { count: 0, mine: false }]]),
      },
    ],
    translation: (id) => views.get(id) ?? { status: 'original' },
    tips: [
      { kind: 'tip', key: 'tip-2', from: { userId: asUserId('u-x'), displayName: 'X' }, amount: 9, at: '9999' },
      {
        kind: 'tip',
        key: 'tip-1',
        from: { userId: asUserId('u-x'), displayName: 'X' },
        amount: 5,
        at: new Date(Date.UTC(2026, 0, 1, 0, 0, 3)).toISOString(),
      },
    ],
    outgoing: [{ clientId: 'mine-2', text: 'on its way', sentAt: '2026-01-01T00:00:10.000Z' }],
    hasMore: true,
    loadingOlder: false,
    restrictions: new Map([['u-x', { banned: true }]]),
    error: null,
    removed: null,
    endReason: null,
    ...over,
  };
}

const keys = (items: ReturnType<typeof buildChatSnapshot>['items']) => items.map((i) => i.key);

describe('buildChatSnapshot', () => {
  it('puts messages in order, tips between them by time, and sends on their way last', () => {
    const s = buildChatSnapshot(input());
    expect(keys(s.items)).toEqual(['m:1', 'm:2', 'tip-1', 'c:mine-1', 'tip-2', 'c:mine-2']);
    const [m1, m2] = s.items as ChatMessageItem[];
    expect(m1).toMatchObject({
      text: 'hello 1',
      translated: false,
      reactions: [{ emoji: '🔥', count: 2, mine: true }],
    });
    expect(m2).toMatchObject({ text: 'hola 2', translated: true, original: 'hello 2' });
    const mine = s.items.find((i) => i.key === 'c:mine-1') as ChatMessageItem;
    expect(mine).toMatchObject({ mine: true, delivery: 'sent', reactions: [] });
    expect(s.items.at(-1)).toMatchObject({ delivery: 'sending', id: null, mine: true, author: { userId: 'u-me' } });
    expect(s).toMatchObject({
      language: 'es',
      canSend: true,
      canModerate: false,
      slowModeSeconds: 5,
      maxLength: 300,
      blockedWords: ['bad'],
      hasMore: true,
      translationAvailable: true,
    });
  });

  it('shows the original when asked, and falls back before chat:state', () => {
    const base = input();
    const s = buildChatSnapshot({ ...base, messages: [{ ...base.messages[1]!, showOriginal: true }] });
    expect(s.items[0]).toMatchObject({ text: 'hello 2', translated: false, showOriginal: true });
    const early = buildChatSnapshot(input({ state: null, host: true, requestedLanguage: undefined }));
    expect(early).toMatchObject({
      language: 'en',
      canSend: true,
      canModerate: true,
      engine: null,
      maxLength: MAX_CHAT_LENGTH,
      blockedWords: [],
      mutedUntil: null,
    });
    expect(buildChatSnapshot(input({ self: { ...self, guest: true } })).canSend).toBe(false);
    expect(buildChatSnapshot(input({ state: null, self: null })).canSend).toBe(false);
    expect(buildChatSnapshot(input({ state: { ...state, engine: 'none' } })).translationAvailable).toBe(false);
  });

  it('is pure: the same input gives an equal snapshot, the input is not changed, and nothing is shared to mutate', () => {
    const i = input();
    const frozen = JSON.stringify({ ...i, messages: i.messages.map((m) => ({ ...m, reactions: [...m.reactions] })) });
    const tipsBefore = [...i.tips];
    const a = buildChatSnapshot(i);
    const b = buildChatSnapshot(i);
    expect(a).toEqual(b);
    expect(a).not.toBe(b);
    expect(JSON.stringify({ ...i, messages: i.messages.map((m) => ({ ...m, reactions: [...m.reactions] })) })).toBe(
      frozen,
    );
    expect(i.tips).toEqual(tipsBefore);
    // The snapshot owns its collections: changing them touches neither the input nor the other snapshot.
    (a.restrictions as Map<string, unknown>).clear();
    a.blockedWords.push('more');
    a.items.length = 0;
    expect(i.restrictions.size).toBe(1);
    expect(state.blockedWords).toEqual(['bad']);
    expect(b.items).toHaveLength(6);
    expect(buildChatSnapshot(i)).toEqual(b);
  });
});
