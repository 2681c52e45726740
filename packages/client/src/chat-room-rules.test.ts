import { asRoomId, asUserId, type ChatStateEvent } from '@fusionflow/protocol';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatRoomRules } from './chat-room-rules.js';
import type { ChatSelf } from './chat-snapshot.js';

const ROOM = asRoomId('room-1');
const me: ChatSelf = { userId: asUserId('u-me'), displayName: 'Me', guest: false };
const other = asUserId('u-other');
const by = asUserId('u-mod');
const NOW = Date.UTC(2026, 0, 1);

const state: ChatStateEvent = {
  roomId: ROOM,
  language: 'es',
  engine: 'apertium',
  translationAvailable: true,
  canModerate: false,
  canSend: true,
  slowModeSeconds: 0,
  maxLength: 500,
};

function setup() {
  let expired = 0;
  const rules = new ChatRoomRules({
    self: () => me,
    onExpire: () => {
      expired += 1;
    },
    now: () => NOW,
  });
  return { rules, expired: () => expired };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ChatRoomRules', () => {
  it('says when translation is off, and takes settings only after a chat:state', () => {
    const { rules } = setup();
    expect(rules.setSettings(10, ['x'])).toBe(false);
    expect(rules.state).toBeNull();
    expect(rules.setState(state)).toBe(false);
    expect(rules.setState({ ...state, engine: 'none' })).toBe(true);
    expect(rules.setState({ ...state, translationAvailable: false })).toBe(true);
    expect(rules.setSettings(10, ['x'])).toBe(true);
    expect(rules.state).toMatchObject({ slowModeSeconds: 10, blockedWords: ['x'] });
    expect(rules.setSettings(3, undefined)).toBe(true);
    expect(rules.state).toMatchObject({ slowModeSeconds: 3, blockedWords: ['x'] });
    rules.close();
  });

  it('keeps the restrictions of others as moderation events come', () => {
    const { rules } = setup();
    rules.setState(state);
    const until = new Date(NOW + 60_000).toISOString();
    rules.moderation({ roomId: ROOM, action: 'mute', userId: other, by, until });
    rules.moderation({ roomId: ROOM, action: 'ban', userId: other, by });
    expect(rules.restrictions.get(other)).toEqual({ mutedUntil: until, banned: true });
    rules.moderation({ roomId: ROOM, action: 'unmute', userId: other, by });
    rules.moderation({ roomId: ROOM, action: 'unban', userId: other, by });
    expect(rules.restrictions.has(other)).toBe(false);
    // Someone else's mute leaves the reader's right to send alone.
    expect(rules.state).toMatchObject({ canSend: true });
    rules.close();
  });

  it("the reader's mute stops sending and lifts by itself when it runs out", () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { rules, expired } = setup();
    rules.setState(state);
    const until = new Date(NOW + 60_000).toISOString();
    rules.moderation({ roomId: ROOM, action: 'mute', userId: me.userId, by, until });
    expect(rules.state).toMatchObject({ canSend: false, mutedUntil: until });
    vi.advanceTimersByTime(60_000);
    expect(rules.state).toMatchObject({ canSend: false });
    vi.advanceTimersByTime(250);
    expect(rules.state).toMatchObject({ canSend: true });
    expect(rules.state?.mutedUntil).toBeUndefined();
    expect(expired()).toBe(1);
    // An unmute lifts it at once, and its timer goes.
    rules.moderation({
      roomId: ROOM,
      action: 'mute',
      userId: me.userId,
      by,
      until: new Date(NOW + 5000).toISOString(),
    });
    rules.moderation({ roomId: ROOM, action: 'unmute', userId: me.userId, by });
    expect(rules.state).toMatchObject({ canSend: true });
    expect(vi.getTimerCount()).toBe(0);
    // close() clears a pending timer.
    rules.setState({ ...state, canSend: false, mutedUntil: new Date(NOW + 5000).toISOString() });
    expect(vi.getTimerCount()).toBe(1);
    rules.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a moderator is not muted by an event about them', () => {
    const { rules } = setup();
    rules.setState({ ...state, canModerate: true });
    rules.moderation({
      roomId: ROOM,
      action: 'mute',
      userId: me.userId,
      by,
      until: new Date(NOW + 60_000).toISOString(),
    });
    expect(rules.state).toMatchObject({ canSend: true });
    rules.close();
  });
});
