import { createHash } from 'node:crypto';
import {
  asChatMessageId,
  asRoomId,
  asUserId,
  CHAT_HISTORY_PAGE,
  type ChatMessage,
  type ChatMessageId,
  type ChatReaction,
  type ReactionCount,
  type RoomId,
  sameLanguage,
  type UserId,
} from '@fusionflow/protocol';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { ChatMessagesTable, Database } from '../../db/schema.js';

/** SHA-256 of a message's text: the translation cache's key (base64url, 43 characters). */
export const textHash = (text: string): string => createHash('sha256').update(text).digest('base64url');

export interface NewChatMessage {
  roomId: RoomId;
  authorId: UserId;
  authorName: string;
  authorModerator: boolean;
  clientId: string;
  language: string;
  text: string;
}

/** A stored message with what the chat needs beside the protocol's view of it. */
export interface StoredMessage {
  message: ChatMessage;
  textHash: string;
}

type Row = Selectable<ChatMessagesTable>;
type HistoryRow = Row & { translated: string | null };

/** Who reads a history: reactions say which are theirs (none for an anonymous reader), translations come in their language. */
export interface ChatReader {
  userId: UserId | null;
  language: string;
}

function toMessage(row: Row, reactions: ReactionCount[] = []): ChatMessage {
  return {
    id: asChatMessageId(row.id),
    roomId: asRoomId(row.room_id),
    clientId: row.client_id,
    author: { userId: asUserId(row.author_id), displayName: row.author_name, moderator: row.author_moderator },
    language: row.language,
    text: row.text,
    sentAt: row.created_at.toISOString(),
    reactions,
  };
}

/** A room's messages that were not deleted, each with its translation into the reader's language if cached. */
function historyQuery(db: Kysely<Database>, roomId: RoomId, reader: ChatReader) {
  return db
    .selectFrom('chat_messages as m')
    .leftJoin('translation_cache as t', (join) =>
      join
        .onRef('t.source', '=', 'm.language')
        .onRef('t.text_hash', '=', 'm.text_hash')
        .on('t.target', '=', reader.language),
    )
    .selectAll('m')
    .select('t.translated')
    .where('m.room_id', '=', roomId)
    .where('m.deleted_at', 'is', null);
}
type HistoryQuery = ReturnType<typeof historyQuery>;

/** Chat messages and reactions in the database (PGlite or PostgreSQL). */
export class ChatStore {
  constructor(private readonly db: Kysely<Database>) {}

  /**
   * Store a message once per (room, author, client id): a retry returns the message stored the
   * first time, with `duplicate: true`.
   */
  async add(m: NewChatMessage): Promise<StoredMessage & { duplicate: boolean }> {
    const hash = textHash(m.text);
    const inserted = await this.db
      .insertInto('chat_messages')
      .values({
        room_id: m.roomId,
        author_id: m.authorId,
        author_name: m.authorName,
        author_moderator: m.authorModerator,
        client_id: m.clientId,
        language: m.language,
        text: m.text,
        text_hash: hash,
      })
      .onConflict((oc) => oc.columns(['room_id', 'author_id', 'client_id']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (inserted) return { message: toMessage(inserted), textHash: hash, duplicate: false };
    const existing = await this.db
      .selectFrom('chat_messages')
      .selectAll()
      .where('room_id', '=', m.roomId)
      .where('author_id', '=', m.authorId)
      .where('client_id', '=', m.clientId)
      .executeTakeFirstOrThrow();
    const reactions = await this.#reactions([existing.id], m.authorId);
    return {
      message: toMessage(existing, reactions.get(existing.id)),
      textHash: existing.text_hash,
      duplicate: true,
    };
  }

  /** A message of a room that was not deleted. */
  async get(roomId: RoomId, id: ChatMessageId): Promise<Row | undefined> {
    return this.db
      .selectFrom('chat_messages')
      .selectAll()
      .where('id', '=', Number(id))
      .where('room_id', '=', roomId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
  }

  /**
   * A page of a room's history for one reader, oldest first: messages before `before` (the newest
   * when absent), with reaction counts (and which are the reader's) and the translation into the
   * reader's language where the cache has one.
   */
  async history(
    roomId: RoomId,
    reader: ChatReader,
    before?: ChatMessageId,
    limit = CHAT_HISTORY_PAGE,
  ): Promise<{ messages: ChatMessage[]; hasMore: boolean }> {
    const rows = await this.#read(roomId, reader, (query) => {
      const page = query.orderBy('m.id', 'desc').limit(limit + 1);
      return before === undefined ? page : page.where('m.id', '<', Number(before));
    });
    const hasMore = rows.length > limit;
    return { messages: await this.#messages(rows.slice(0, limit).reverse(), reader), hasMore };
  }

  /**
   * A room's messages sent from `from` to `to` (a broadcast's chat, for its replay), oldest first,
   * at most `limit`, read like `history` (reactions, cached translations into the reader's language).
   */
  async sentBetween(
    roomId: RoomId,
    reader: ChatReader,
    window: { from: Date; to: Date },
    limit: number,
  ): Promise<ChatMessage[]> {
    const rows = await this.#read(roomId, reader, (query) =>
      query
        .where('m.created_at', '>=', window.from)
        .where('m.created_at', '<=', window.to)
        .orderBy('m.id', 'asc')
        .limit(limit),
    );
    return this.#messages(rows, reader);
  }

  #read(roomId: RoomId, reader: ChatReader, shape: (query: HistoryQuery) => HistoryQuery): Promise<HistoryRow[]> {
    return shape(historyQuery(this.db, roomId, reader)).execute();
  }

  async #messages(rows: HistoryRow[], reader: ChatReader): Promise<ChatMessage[]> {
    const reactions = await this.#reactions(
      rows.map((r) => r.id),
      reader.userId,
    );
    return rows.map((row) => {
      const message = toMessage(row, reactions.get(row.id));
      if (row.translated !== null && !sameLanguage(row.language, reader.language)) {
        message.translation = { language: reader.language, status: 'ok', text: row.translated };
      }
      return message;
    });
  }

  /** Soft-delete a message; false when it was not there (or already deleted). */
  async delete(roomId: RoomId, id: ChatMessageId, by: UserId): Promise<boolean> {
    const result = await this.db
      .updateTable('chat_messages')
      .set({ deleted_at: new Date(), deleted_by: by })
      .where('id', '=', Number(id))
      .where('room_id', '=', roomId)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Give (`on`) or take back a reaction; answers the reaction's new count on the message. */
  async react(id: ChatMessageId, userId: UserId, emoji: ChatReaction, on: boolean): Promise<number> {
    const messageId = Number(id);
    if (on) {
      await this.db
        .insertInto('chat_reactions')
        .values({ message_id: messageId, user_id: userId, emoji })
        .onConflict((oc) => oc.doNothing())
        .execute();
    } else {
      await this.db
        .deleteFrom('chat_reactions')
        .where('message_id', '=', messageId)
        .where('user_id', '=', userId)
        .where('emoji', '=', emoji)
        .execute();
    }
    const row = await this.db
      .selectFrom('chat_reactions')
      .select(sql<number>`count(*)::int`.as('count'))
      .where('message_id', '=', messageId)
      .where('emoji', '=', emoji)
      .executeTakeFirstOrThrow();
    return row.count;
  }

  async #reactions(ids: number[], reader: UserId | null): Promise<Map<number, ReactionCount[]>> {
    const out = new Map<number, ReactionCount[]>();
    if (ids.length === 0) return out;
    const rows = await this.db
      .selectFrom('chat_reactions')
      .select([
        'message_id',
        'emoji',
        sql<number>`count(*)::int`.as('count'),
        sql<boolean>`coalesce(bool_or(user_id = ${reader}), false)`.as('mine'),
      ])
      .where('message_id', 'in', ids)
      .groupBy(['message_id', 'emoji'])
      .orderBy('emoji')
      .execute();
    for (const r of rows) {
      const list = out.get(r.message_id) ?? [];
      list.push({ emoji: r.emoji as ChatReaction, count: r.count, mine: r.mine });
      out.set(r.message_id, list);
    }
    return out;
  }
}
