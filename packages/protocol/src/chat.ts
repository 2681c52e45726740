import { z } from 'zod';
import { Language } from './identity.js';
import { RoomId, UserId } from './ids.js';
import { text } from './text.js';

/**
 * Chat over the same Socket.IO connection as signaling. A connection `join`s a room (any kind)
 * and then chats in it. Every message is stored before its sender's acknowledgement; readers get
 * the original at once (`chat:message`) and a translation into their language after it
 * (`chat:translation`). docs/protocol.md says the same in words.
 */

/** Longest chat message, in characters (the server may be configured lower, never higher). */
export const MAX_CHAT_LENGTH = 2000;
/** Messages per `chat:history` page (and on joining). */
export const CHAT_HISTORY_PAGE = 100;
/** Reactions a reader can pick. A short fixed set keeps counts readable and the payload small. */
export const CHAT_REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🔥'] as const;
export const ChatReaction = z.enum(CHAT_REACTIONS);
export type ChatReaction = z.infer<typeof ChatReaction>;

export const ChatMessageId = text()
  .regex(/^[0-9]{1,20}$/, 'message id is a decimal number')
  .brand<'ChatMessageId'>();
export type ChatMessageId = z.infer<typeof ChatMessageId>;
export const asChatMessageId = (value: string | number | bigint): ChatMessageId => String(value) as ChatMessageId;

/** A sender's own id for one message; a retry with the same id never stores the message twice. */
export const ChatClientId = text().regex(/^[A-Za-z0-9_-]{1,64}$/, 'clientId must match ^[A-Za-z0-9_-]{1,64}$');

/** Count of one reaction on a message; `mine` is true when the reader gave it. */
export const ReactionCount = z.object({ emoji: ChatReaction, count: z.number().int().min(0), mine: z.boolean() });
export type ReactionCount = z.infer<typeof ReactionCount>;

export const ChatAuthor = z.object({
  userId: UserId,
  displayName: text(),
  /** The author hosts the room or moderates it (readers show a badge). */
  moderator: z.boolean(),
});
export type ChatAuthor = z.infer<typeof ChatAuthor>;

/** What a reader gets when a message cannot be shown in their language. */
export const TranslationStatus = z.enum([
  /** Translated: `text` holds the translation. */
  'ok',
  /** The engine has no such language pair (reported, never faked). */
  'unsupported',
  /** No engine is configured, or it failed, timed out or is paused by its circuit breaker. */
  'unavailable',
]);
export type TranslationStatus = z.infer<typeof TranslationStatus>;

export const ChatTranslation = z.object({
  language: Language,
  status: TranslationStatus,
  text: text().optional(),
});
export type ChatTranslation = z.infer<typeof ChatTranslation>;

export const ChatMessage = z.object({
  id: ChatMessageId,
  roomId: RoomId,
  clientId: text(),
  author: ChatAuthor,
  /** The author's language: the language of `text`. */
  language: Language,
  text: text(),
  sentAt: text(),
  reactions: z.array(ReactionCount),
  /** History only: the reader's language, when it was translated (live readers get `chat:translation`). */
  translation: ChatTranslation.optional(),
});
export type ChatMessage = z.infer<typeof ChatMessage>;

// --- client → server --------------------------------------------------------------------------

export const ChatSendMessage = z.strictObject({
  roomId: RoomId,
  text: text().max(MAX_CHAT_LENGTH * 2),
  clientId: ChatClientId,
});
export type ChatSendMessage = z.infer<typeof ChatSendMessage>;

export const ChatHistoryRequest = z.strictObject({
  roomId: RoomId,
  /** Messages older than this id; the newest page when absent. */
  before: ChatMessageId.optional(),
});
export type ChatHistoryRequest = z.infer<typeof ChatHistoryRequest>;

export const ChatDeleteRequest = z.strictObject({ roomId: RoomId, messageId: ChatMessageId });
export type ChatDeleteRequest = z.infer<typeof ChatDeleteRequest>;

export const ChatReactRequest = z.strictObject({
  roomId: RoomId,
  messageId: ChatMessageId,
  emoji: ChatReaction,
  /** false takes one's reaction back. */
  on: z.boolean().default(true),
});
export type ChatReactRequest = z.infer<typeof ChatReactRequest>;

/** Longest room mute: 7 days. */
export const MAX_MUTE_SECONDS = 7 * 24 * 3600;

export const ChatModerateRequest = z.discriminatedUnion('action', [
  z.strictObject({
    roomId: RoomId,
    action: z.literal('mute'),
    userId: UserId,
    durationSeconds: z.number().int().min(1).max(MAX_MUTE_SECONDS),
    reason: text().max(200).optional(),
  }),
  z.strictObject({ roomId: RoomId, action: z.literal('unmute'), userId: UserId }),
  z.strictObject({
    roomId: RoomId,
    action: z.literal('ban'),
    userId: UserId,
    reason: text().max(200).optional(),
  }),
  z.strictObject({ roomId: RoomId, action: z.literal('unban'), userId: UserId }),
]);
export type ChatModerateRequest = z.infer<typeof ChatModerateRequest>;

export const MAX_BLOCKED_WORDS = 200;
export const BlockedWord = text()
  .trim()
  .min(1)
  .max(64)
  .transform((w) => w.toLowerCase());

export const ChatSettingsRequest = z.strictObject({
  roomId: RoomId,
  /** 0 turns slow mode off. */
  slowModeSeconds: z.number().int().min(0).max(3600).optional(),
  /** Replaces the list. Words are matched case-insensitively as whole words. */
  blockedWords: z.array(BlockedWord).max(MAX_BLOCKED_WORDS).optional(),
});
export type ChatSettingsRequest = z.infer<typeof ChatSettingsRequest>;

export const ChatClientMessages = {
  'chat:send': ChatSendMessage,
  'chat:history': ChatHistoryRequest,
  'chat:delete': ChatDeleteRequest,
  'chat:react': ChatReactRequest,
  'chat:moderate': ChatModerateRequest,
  'chat:settings': ChatSettingsRequest,
} as const;

// --- acknowledgements -------------------------------------------------------------------------

/** `chat:send`'s acknowledgement: the stored message (the same one on a retry). */
export const ChatSendResult = z.object({ message: ChatMessage, duplicate: z.boolean() });
export type ChatSendResult = z.infer<typeof ChatSendResult>;

/** `chat:history`'s acknowledgement: oldest first; `hasMore` when older messages exist. */
export const ChatHistoryResult = z.object({ messages: z.array(ChatMessage), hasMore: z.boolean() });
export type ChatHistoryResult = z.infer<typeof ChatHistoryResult>;

// --- server → client --------------------------------------------------------------------------

export const ChatMessageEvent = ChatMessage;

export const ChatTranslationEvent = z.object({
  roomId: RoomId,
  messageId: ChatMessageId,
  language: Language,
  status: TranslationStatus,
  text: text().optional(),
});
export type ChatTranslationEvent = z.infer<typeof ChatTranslationEvent>;

export const ChatDeleteEvent = z.object({ roomId: RoomId, messageId: ChatMessageId, deletedBy: UserId });
export type ChatDeleteEvent = z.infer<typeof ChatDeleteEvent>;

/** A reaction changed: the new count, and who gave or took it back. */
export const ChatReactEvent = z.object({
  roomId: RoomId,
  messageId: ChatMessageId,
  emoji: ChatReaction,
  userId: UserId,
  on: z.boolean(),
  count: z.number().int().min(0),
});
export type ChatReactEvent = z.infer<typeof ChatReactEvent>;

/** A moderation action, told to the room (and to the person it concerns). */
export const ChatModerationEvent = z.object({
  roomId: RoomId,
  action: z.enum(['mute', 'unmute', 'ban', 'unban']),
  userId: UserId,
  by: UserId,
  /** Mutes: when it ends. */
  until: text().optional(),
  reason: text().optional(),
});
export type ChatModerationEvent = z.infer<typeof ChatModerationEvent>;

/** The room's chat settings; `blockedWords` only goes to the people who moderate the room. */
export const ChatSettingsEvent = z.object({
  roomId: RoomId,
  slowModeSeconds: z.number().int(),
  blockedWords: z.array(text()).optional(),
});
export type ChatSettingsEvent = z.infer<typeof ChatSettingsEvent>;

/** Sent after `joined`: what chat can do in this room for this reader. */
export const ChatStateEvent = z.object({
  roomId: RoomId,
  /** The reader's language (translations come in it). */
  language: Language,
  /** The translation engine (`none` when the operator configured none). */
  engine: z.enum(['none', 'libretranslate', 'apertium']),
  /** False when no engine is configured or its circuit breaker is open: chat shows originals only. */
  translationAvailable: z.boolean(),
  /** The reader may delete others' messages, mute, ban and change settings. */
  canModerate: z.boolean(),
  /** The reader may send (signed in, not muted). */
  canSend: z.boolean(),
  /** When the reader's mute ends, if muted. */
  mutedUntil: text().optional(),
  slowModeSeconds: z.number().int(),
  blockedWords: z.array(text()).optional(),
  maxLength: z.number().int(),
});
export type ChatStateEvent = z.infer<typeof ChatStateEvent>;

/** A tip in a room, for the chat's animation. */
export const ChatTipEvent = z.object({
  roomId: RoomId,
  from: z.object({ userId: UserId, displayName: text() }),
  amount: z.number().int().positive(),
  message: text().optional(),
  at: text(),
});
export type ChatTipEvent = z.infer<typeof ChatTipEvent>;

/**
 * Several `chat:message`s and `chat:translation`s at once, in the order they happened: under load
 * the server gathers what one connection would get within `CHAT_BATCH_MS` into one frame (a busy
 * room's members then get a few frames a second instead of one per message and translation).
 * Handle it as the events it holds, messages first.
 */
export const ChatBatchEvent = z.object({
  roomId: RoomId,
  messages: z.array(ChatMessage),
  translations: z.array(ChatTranslationEvent),
});
export type ChatBatchEvent = z.infer<typeof ChatBatchEvent>;

export const ChatServerMessages = {
  'chat:state': ChatStateEvent,
  'chat:message': ChatMessageEvent,
  'chat:translation': ChatTranslationEvent,
  'chat:delete': ChatDeleteEvent,
  'chat:react': ChatReactEvent,
  'chat:moderation': ChatModerationEvent,
  'chat:settings': ChatSettingsEvent,
  'chat:tip': ChatTipEvent,
  'chat:batch': ChatBatchEvent,
} as const;
