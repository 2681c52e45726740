import {
  CHAT_REACTIONS,
  type ChatAuthor,
  type ChatMessage,
  type ChatMessageId,
  type ChatReaction,
  type ChatStateEvent,
  MAX_CHAT_LENGTH,
  type ReactionCount,
  type RemovedMessage,
  type RoomId,
  type UserId,
} from '@fusionflow/protocol';
import type { FusionFlowError } from './fusionflow-error.js';

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
  self: ChatSelf | null;
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

export interface ChatSelf {
  userId: UserId;
  displayName: string;
  guest: boolean;
}

/** One stored message as the timeline holds it. */
export interface ChatTimelineEntry {
  readonly message: ChatMessage;
  readonly showOriginal: boolean;
  readonly reactions: ReadonlyMap<ChatReaction, { readonly count: number; readonly mine: boolean }>;
}

/** A message of the reader's on its way. */
export interface ChatOutgoing {
  readonly clientId: string;
  readonly text: string;
  readonly sentAt: string;
}

/** Everything a snapshot is made of; `buildChatSnapshot` reads it and changes none of it. */
export interface ChatSnapshotInput {
  status: ChatStatus;
  roomId: RoomId;
  self: ChatSelf | null;
  /** The reader hosts the room (moderates it even before `chat:state` says). */
  host: boolean;
  state: ChatStateEvent | null;
  /** The language asked for in `join`, until `chat:state` says. */
  requestedLanguage: string | undefined;
  /** Stored messages, oldest first. */
  messages: readonly ChatTimelineEntry[];
  translation: (id: ChatMessageId) => ChatTranslationView;
  tips: readonly ChatTipItem[];
  /** Sends not stored yet (those already echoed are left out by the caller). */
  outgoing: readonly ChatOutgoing[];
  hasMore: boolean;
  loadingOlder: boolean;
  restrictions: ReadonlyMap<string, ChatRestriction>;
  error: FusionFlowError | null;
  removed: RemovedMessage | null;
  endReason: string | null;
}

function messageItem(
  entry: ChatTimelineEntry,
  translation: ChatTranslationView,
  selfId: UserId | undefined,
): ChatMessageItem {
  const { message, showOriginal } = entry;
  const translated = translation.status === 'ok' && !showOriginal;
  const mine = message.author.userId === selfId;
  return {
    kind: 'message',
    key: mine ? `c:${message.clientId}` : `m:${message.id}`,
    id: message.id,
    clientId: message.clientId,
    author: message.author,
    language: message.language,
    original: message.text,
    sentAt: message.sentAt,
    mine,
    delivery: 'sent',
    translation,
    showOriginal,
    text: translated ? translation.text : message.text,
    translated,
    reactions: CHAT_REACTIONS.flatMap((emoji) => {
      const r = entry.reactions.get(emoji);
      return r && r.count > 0 ? [{ emoji, count: r.count, mine: r.mine }] : [];
    }),
  };
}

/**
 * The immutable view of a chat, from the state of its parts. Pure: the same input gives an equal
 * snapshot, and the input is left as it was (the snapshot holds its own arrays and maps).
 */
export function buildChatSnapshot(input: ChatSnapshotInput): ChatSnapshot {
  const { state, self } = input;
  const selfId = self?.userId;
  const messages = input.messages.map((entry) => messageItem(entry, input.translation(entry.message.id), selfId));
  // Tips between the messages by time (both times are the server's).
  const items: ChatItem[] = [];
  const tips = [...input.tips].sort((a, b) => a.at.localeCompare(b.at));
  let ti = 0;
  for (const item of messages) {
    while (ti < tips.length && tips[ti]!.at < item.sentAt) items.push(tips[ti++]!);
    items.push(item);
  }
  while (ti < tips.length) items.push(tips[ti++]!);
  const language = state?.language ?? input.requestedLanguage ?? 'en';
  const canModerate = state?.canModerate ?? input.host;
  const selfAuthor: ChatAuthor = {
    userId: selfId ?? ('' as UserId),
    displayName: self?.displayName ?? '',
    moderator: canModerate,
  };
  for (const p of input.outgoing) {
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
  const guest = self?.guest ?? false;
  // Before the server's chat:state (it is not sent again when a join resumes a slot): what `joined` tells.
  const canSend = state ? state.canSend && !guest : self !== null && !guest;
  return {
    status: input.status,
    roomId: input.roomId,
    self,
    language,
    engine: state?.engine ?? null,
    translationAvailable: state ? state.translationAvailable && state.engine !== 'none' : true,
    canSend,
    canModerate,
    mutedUntil: state?.mutedUntil ?? null,
    slowModeSeconds: state?.slowModeSeconds ?? 0,
    blockedWords: state?.blockedWords ? [...state.blockedWords] : [],
    maxLength: state?.maxLength ?? MAX_CHAT_LENGTH,
    items,
    hasMore: input.hasMore,
    loadingOlder: input.loadingOlder,
    restrictions: new Map(input.restrictions),
    error: input.error,
    removed: input.removed,
    endReason: input.endReason,
  };
}
