import type { FileHandle } from 'node:fs/promises';
import { AppError, conflict, forbidden, type Logger, notFound } from '@fusionflow/kit';
import {
  type ChatMessage,
  ErrorCode,
  type ListReplaysQuery,
  REPLAY_CHAT_LIMIT,
  REPLAY_PLAYBACK_TTL_SECONDS,
  RecordingFile,
  type Replay,
  type ReplayChat,
  type ReplayPlayback,
  RoomId,
  type UpdateReplayRequest,
  UserId,
} from '@fusionflow/protocol';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import type { Database } from '../../db/schema.js';
import type { Session } from '../identity/access-tokens.js';
import type { MediaTokens } from './media-token.js';
import type { RecordingFiles } from './recording-files.js';

export interface ReplayServiceOptions {
  db: Kysely<Database>;
  files: RecordingFiles;
  tokens: MediaTokens;
  /** Paid broadcasts: the room ticket a user holds, if any (the wallet). */
  tickets: { ticketFor(userId: string, roomId: string): Promise<string | null> };
  /** The broadcast's chat as the chat module reads it (history with translations). */
  chat: {
    sentBetween(
      roomId: RoomId,
      reader: { userId: UserId | null; language: string },
      window: { from: Date; to: Date },
      limit: number,
    ): Promise<ChatMessage[]>;
  };
  /** An account's role now: an admin token is checked against it (a demoted admin loses the power at once). */
  currentRole: (userId: string) => Promise<string | null>;
  /** RECORDING_RETENTION_DAYS: final recordings older than this are deleted (0: kept forever). */
  retentionDays: number;
  logger: Logger;
  now?: () => Date;
}

/** A playable file of a replay, local and open, for the media route (which closes `handle`). */
export interface ReplayMediaFile {
  handle: FileHandle;
  bytes: number;
  contentType: string;
}

const Files = z.array(RecordingFile);
/**
 * What a replay file may be served as: audio and video only. Anything else in a report (text/html
 * would run as a page of this origin) is served as plain bytes.
 */
const SAFE_CONTENT_TYPE = /^(video|audio)\/[a-z0-9.+-]{1,48}$/i;
const FILE_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const RECORDING_ID = /^[A-Za-z0-9_-]{8,64}$/;
/** Deleted recordings whose files are retried per sweep. */
const PURGE_BATCH = 100;

type ReplayRow = NonNullable<Awaited<ReturnType<ReplayService['row']>>>;

/**
 * Replays: the recordings of broadcasts as viewers and streamers use them. Lists, renames, hides
 * and deletes them, decides who may watch one (the broadcast's ticket), hands out short-lived
 * playback URLs (signed local media URLs, presigned S3 URLs), replays the broadcast's chat and
 * deletes what retention or a streamer removed (files and objects; a failed delete is retried).
 */
export class ReplayService {
  readonly #now: () => Date;

  constructor(private readonly o: ReplayServiceOptions) {
    this.#now = o.now ?? (() => new Date());
  }

  /** Ready replays, newest first; the owner listing their own also sees the hidden ones. */
  async list(viewer: Session | null, q: ListReplaysQuery): Promise<Replay[]> {
    let query = this.#select()
      .where('recordings.status', '=', 'ready')
      .where('recordings.deleted_at', 'is', null)
      .orderBy('recordings.created_at', 'desc')
      .orderBy('recordings.id', 'desc')
      .limit(q.limit);
    if (q.owner !== undefined) query = query.where('recordings.owner_id', '=', q.owner);
    if (q.owner === undefined || q.owner !== viewer?.userId) query = query.where('recordings.hidden', '=', false);
    return (await query.execute()).map(toReplay);
  }

  /** One replay (any status); deleted ones, and hidden ones for anyone but the owner and admins, are 404. */
  async get(viewer: Session | null, id: string): Promise<Replay> {
    return toReplay(await this.#visible(viewer, id));
  }

  /** Rename or hide (owner or admin). */
  async update(actor: Session, id: string, patch: UpdateReplayRequest): Promise<Replay> {
    await this.#manageable(actor, id);
    await this.o.db
      .updateTable('recordings')
      .set({
        ...(patch.title !== undefined ? { title: patch.title } : {}),
        ...(patch.hidden !== undefined ? { hidden: patch.hidden } : {}),
      })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .execute();
    this.o.logger.info({ recordingId: id, userId: actor.userId, ...patch }, 'replay changed');
    return toReplay(await this.#found(id));
  }

  /**
   * Delete (owner or admin): the replay is gone for everyone at once; its files and objects are
   * removed now, and what fails to be is retried by the sweep.
   */
  async remove(actor: Session, id: string): Promise<void> {
    await this.#manageable(actor, id);
    const deleted = await this.o.db
      .updateTable('recordings')
      .set({ deleted_at: this.#now() })
      .where('id', '=', id)
      .where('deleted_at', 'is', null)
      .returning(['id', 'files'])
      .executeTakeFirst();
    this.o.logger.info({ recordingId: id, userId: actor.userId }, 'replay deleted');
    if (deleted) await this.#purgeOne(deleted.id, deleted.files);
  }

  /** Where the replay's file can be fetched for the next 10 minutes (ready replays the viewer may watch). */
  async playback(viewer: Session | null, id: string): Promise<ReplayPlayback> {
    const row = await this.#visible(viewer, id);
    await this.#checkAccess(viewer, row);
    if (row.status !== 'ready') throw conflict(`the replay is not ready (${row.status})`);
    const files = Files.parse(JSON.parse(row.files));
    const file = files.find((f) => f.contentType.startsWith('video/webm')) ?? files[0];
    if (!file) throw notFound('the replay has no files', ErrorCode.RecordingNotFound);
    const contentType = safeContentType(file.contentType);
    if (file.storage === 's3') {
      const store = this.o.files.store;
      if (!store) {
        this.o.logger.error({ recordingId: id }, 'a replay is in S3 but S3 is not configured (S3_BUCKET)');
        throw notFound('the replay is not reachable', ErrorCode.RecordingNotFound);
      }
      const expiresAt = new Date(this.#now().getTime() + REPLAY_PLAYBACK_TTL_SECONDS * 1000);
      const url = await store.presignGet(file.key, {
        expiresInSeconds: REPLAY_PLAYBACK_TTL_SECONDS,
        contentType,
        filename: file.name,
      });
      return { url, contentType, expiresAt: expiresAt.toISOString() };
    }
    if (!(await this.o.files.openable(file))) {
      this.o.logger.warn(
        { recordingId: id, key: file.key },
        'a replay file is not on this disk: RECORDINGS_DIR must be the SFU’s directory (shared disk) or use S3',
      );
      throw notFound('the replay’s file is not available', ErrorCode.RecordingNotFound);
    }
    const { token, expiresAt } = this.o.tokens.sign(id, file.name);
    const url = `/api/replays/${encodeURIComponent(id)}/media/${encodeURIComponent(file.name)}?token=${token}`;
    return { url, contentType, expiresAt: expiresAt.toISOString() };
  }

  /**
   * A local file of a ready replay for the media route: the name must be one of the recording's
   * files and the token one that `playback` signed for it.
   */
  async media(id: string, name: string, token: string | undefined): Promise<ReplayMediaFile> {
    const missing = () => notFound('no such replay file', ErrorCode.RecordingNotFound);
    if (!RECORDING_ID.test(id) || !FILE_NAME.test(name) || name === '.' || name === '..') throw missing();
    if (!this.o.tokens.verify(id, name, token)) {
      throw forbidden('the media link is invalid or expired; ask for playback again', ErrorCode.InvalidToken);
    }
    const row = await this.row(id);
    if (!row || row.deleted_at !== null || row.status !== 'ready') throw missing();
    const file = Files.parse(JSON.parse(row.files)).find((f) => f.name === name && f.storage === 'local');
    const opened = file && (await this.o.files.open(file));
    if (!file || !opened) throw missing();
    return { ...opened, contentType: safeContentType(file.contentType) };
  }

  /** The broadcast's chat, each message at its offset from the recording's start, in the reader's language. */
  async chat(viewer: Session | null, id: string, lang: string | undefined): Promise<ReplayChat> {
    const row = await this.#visible(viewer, id);
    await this.#checkAccess(viewer, row);
    if (!row.started_at) return { messages: [] };
    const from = new Date(row.started_at);
    const to = row.ended_at ? new Date(row.ended_at) : new Date(from.getTime() + row.duration_ms);
    const language = lang ?? viewer?.language ?? 'en';
    const messages = await this.o.chat.sentBetween(
      RoomId.parse(row.room_id),
      { userId: viewer?.userId ?? null, language },
      { from, to },
      REPLAY_CHAT_LIMIT,
    );
    return {
      messages: messages.map((m) => ({ ...m, offsetMs: Math.max(0, new Date(m.sentAt).getTime() - from.getTime()) })),
    };
  }

  /**
   * Retention and retries: marks final recordings older than RECORDING_RETENTION_DAYS deleted, then
   * removes the files and objects of deleted recordings that still have some (a delete that failed
   * before). Answers how many were expired and how many still have files left.
   */
  async sweep(): Promise<{ expired: number; pending: number }> {
    let expired = 0;
    if (this.o.retentionDays > 0) {
      const before = new Date(this.#now().getTime() - this.o.retentionDays * 86_400_000);
      const rows = await this.o.db
        .updateTable('recordings')
        .set({ deleted_at: this.#now() })
        .where('deleted_at', 'is', null)
        .where('status', 'in', ['ready', 'failed'])
        .where(sql<Date>`coalesce(ended_at, created_at)`, '<', before)
        .returning('id')
        .execute();
      expired = rows.length;
      if (expired > 0) this.o.logger.info({ expired, retentionDays: this.o.retentionDays }, 'replays expired');
    }
    const due = await this.o.db
      .selectFrom('recordings')
      .select(['id', 'files'])
      .where('deleted_at', 'is not', null)
      .where('files', '<>', '[]')
      .orderBy('deleted_at')
      .limit(PURGE_BATCH)
      .execute();
    let pending = 0;
    for (const row of due) if (!(await this.#purgeOne(row.id, row.files))) pending += 1;
    return { expired, pending };
  }

  /** Remove a deleted recording's files; keeps those that could not be removed for the next sweep. */
  async #purgeOne(id: string, filesJson: string): Promise<boolean> {
    const parsed = Files.safeParse(JSON.parse(filesJson));
    if (!parsed.success) {
      this.o.logger.error({ recordingId: id }, 'a deleted recording’s files are not readable; left as they are');
      return false;
    }
    const left = await this.o.files.remove(id, parsed.data);
    await this.o.db
      .updateTable('recordings')
      .set({ files: JSON.stringify(left) })
      .where('id', '=', id)
      .execute();
    return left.length === 0;
  }

  /** The recording with what a Replay shows (owner's name, the room's ticket price); deleted ones too. */
  /** The room's latest recording that is not hidden (any status), for viewers of an ended broadcast. */
  async latestForRoom(roomId: string): Promise<Replay> {
    const row = await this.#select()
      .where('recordings.room_id', '=', roomId)
      .where('recordings.hidden', '=', false)
      .where('recordings.deleted_at', 'is', null)
      .orderBy('recordings.created_at', 'desc')
      .executeTakeFirst();
    if (!row) throw notFound('this room has no replay');
    return toReplay(row);
  }

  row(id: string) {
    return this.#select().where('recordings.id', '=', id).executeTakeFirst();
  }

  #select() {
    return this.o.db
      .selectFrom('recordings')
      .innerJoin('rooms', 'rooms.id', 'recordings.room_id')
      .innerJoin('users', 'users.id', 'recordings.owner_id')
      .selectAll('recordings')
      .select(['users.display_name as owner_name', 'rooms.ticket_price']);
  }

  async #found(id: string): Promise<ReplayRow> {
    const row = RECORDING_ID.test(id) ? await this.row(id) : undefined;
    if (!row || row.deleted_at !== null) throw notFound('no such replay', ErrorCode.RecordingNotFound);
    return row;
  }

  /** A replay the viewer may see: not deleted; when hidden, only for its owner and admins. */
  async #visible(viewer: Session | null, id: string): Promise<ReplayRow> {
    const row = await this.#found(id);
    if (row.hidden && !(await this.#managedBy(viewer, row))) {
      throw notFound('no such replay', ErrorCode.RecordingNotFound);
    }
    return row;
  }

  /** A replay the actor may change: 404 when they could not see it, 403 when it is someone else's. */
  async #manageable(actor: Session, id: string): Promise<ReplayRow> {
    const row = await this.#visible(actor, id);
    if (!(await this.#managedBy(actor, row)))
      throw forbidden('only the replay’s owner can change it', ErrorCode.NotRoomOwner);
    return row;
  }

  async #managedBy(viewer: Session | null, row: ReplayRow): Promise<boolean> {
    if (!viewer || viewer.isGuest) return false;
    if (viewer.userId === row.owner_id) return true;
    return viewer.role === 'admin' && (await this.o.currentRole(viewer.userId)) === 'admin';
  }

  /** Access follows the broadcast: a paid room's replay needs the room's ticket (not for its owner and admins). */
  async #checkAccess(viewer: Session | null, row: ReplayRow): Promise<void> {
    const price = row.ticket_price ?? 0;
    if (price <= 0 || (await this.#managedBy(viewer, row))) return;
    if (viewer && !viewer.isGuest && (await this.o.tickets.ticketFor(viewer.userId, row.room_id))) return;
    throw new AppError(
      ErrorCode.TicketRequired,
      viewer && !viewer.isGuest
        ? `this replay needs the broadcast’s ticket (${price} tokens)`
        : 'this replay needs the broadcast’s ticket; sign in to buy one',
      { ticketPrice: price },
    );
  }
}

function safeContentType(type: string): string {
  return SAFE_CONTENT_TYPE.test(type) ? type : 'application/octet-stream';
}

function toReplay(row: ReplayRow): Replay {
  const iso = (d: Date | string | null) => (d ? new Date(d).toISOString() : null);
  return {
    id: row.id,
    roomId: RoomId.parse(row.room_id),
    ownerId: UserId.parse(row.owner_id),
    ownerName: row.owner_name,
    title: row.title,
    status: row.status,
    startedAt: iso(row.started_at),
    endedAt: iso(row.ended_at),
    durationMs: row.duration_ms,
    hidden: row.hidden,
    ticketPrice: row.ticket_price,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
