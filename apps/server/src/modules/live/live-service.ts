import { createHash, randomBytes } from 'node:crypto';
import { conflict, forbidden, type Logger } from '@fusionflow/kit';
import {
  asRoomId,
  ErrorCode,
  type MediaEvent,
  type RoomId,
  STREAM_KEY_PREFIX,
  type StreamKeyInfo,
  type StreamKeyResponse,
  whipUrl,
} from '@fusionflow/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Session } from '../identity/access-tokens.js';
import type { GrantService } from '../media/grant-service.js';
import type { RoomService } from '../rooms/room-service.js';
import type { SfuAdminClient } from './sfu-client.js';
import type { ViewerMetrics } from './viewer-metrics.js';

const hashKey = (key: string) => createHash('sha256').update(key).digest('hex');
const SEEN_EVENTS = 2048;

export interface LiveServiceOptions {
  db: Kysely<Database>;
  rooms: RoomService;
  grants: GrantService;
  sfu: SfuAdminClient;
  publisherGraceSeconds: number;
  viewers?: ViewerMetrics;
  logger: Logger;
}

/**
 * The control plane's side of live streaming: room status and viewer counts from the SFU's events,
 * the grace period of a publisher that dropped without ending its room, stream keys for encoders,
 * and closing the SFU's room when a room ends.
 */
export class LiveService {
  readonly #graceTimers = new Map<string, NodeJS.Timeout>();
  readonly #seen = new Set<string>();
  #closed = false;

  constructor(private readonly o: LiveServiceOptions) {}

  async handleEvent(event: MediaEvent): Promise<void> {
    if (this.#seen.has(event.id)) return;
    this.#seen.add(event.id);
    if (this.#seen.size > SEEN_EVENTS) this.#seen.delete(this.#seen.values().next().value!);
    const roomId = asRoomId(event.room);
    const room = await this.o.rooms.get(roomId).catch(() => undefined);
    if (room?.kind !== 'live') {
      this.o.logger.warn({ roomId, type: event.type }, 'SFU event for a room that is not a live room');
      return;
    }
    this.o.logger.info({ roomId, type: event.type, subscribers: event.subscribers }, 'SFU event');
    switch (event.type) {
      case 'publisher_started':
        this.#cancelGrace(roomId);
        if (room.status === 'created') await this.o.rooms.transition(roomId, 'live');
        break;
      case 'publisher_stopped':
        if (room.status === 'live') this.#startGrace(roomId);
        break;
      case 'subscriber_joined':
      case 'subscriber_left':
        if (event.type === 'subscriber_joined') this.o.viewers?.joined(event.sessionId);
        else this.o.viewers?.left(event.sessionId);
        if (room.status !== 'ended') await this.o.rooms.setViewerCount(roomId, event.subscribers);
        break;
    }
  }

  /** The publisher dropped without ending the room: end it unless one is back within the grace period. */
  #startGrace(roomId: RoomId): void {
    if (this.#closed || this.#graceTimers.has(roomId)) return;
    const timer = setTimeout(() => {
      this.#graceTimers.delete(roomId);
      this.o.rooms
        .transition(roomId, 'ended')
        .then(() => this.o.logger.info({ roomId }, 'no publisher came back; the room ended'))
        .catch((err: unknown) => this.o.logger.warn({ err, roomId }, 'could not end the room'));
    }, this.o.publisherGraceSeconds * 1000);
    this.#graceTimers.set(roomId, timer);
  }

  #cancelGrace(roomId: string): void {
    clearTimeout(this.#graceTimers.get(roomId));
    this.#graceTimers.delete(roomId);
  }

  /** A room ended (its owner pressed Stop, a moderator, the grace period): close it on the SFU. */
  async roomEnded(roomId: RoomId): Promise<void> {
    this.#cancelGrace(roomId);
    await this.o.sfu.closeRoom(roomId);
  }

  /**
   * End a user's media on the SFU now, in one room or (no `roomId`) in every room: their sessions
   * close and the grants they already hold stop working (grants issued later pass, so an unban
   * needs nothing more). A room ban calls it; so will platform suspensions. Grants are never issued
   * to a banned user (the ban is committed first), so every grant this leaves valid is a later one.
   */
  async endUserMedia(userId: string, roomId?: RoomId): Promise<void> {
    const kicked = await this.o.sfu.revoke({
      userId,
      ...(roomId ? { room: roomId } : {}),
      issuedBefore: Math.floor(Date.now() / 1000),
    });
    this.o.logger.info({ userId, roomId, kicked }, 'user media ended on the SFU');
  }

  /** After a (re)start: live rooms the SFU has no publisher for get the grace period. */
  async reconcile(): Promise<void> {
    const sfuRooms = await this.o.sfu.listRooms().catch(() => undefined);
    if (!sfuRooms) return;
    const publishing = new Set(sfuRooms.filter((r) => r.publisher).map((r) => r.room));
    const live = await this.o.rooms.list({ status: 'live', kind: 'live', limit: 100 });
    for (const room of live.rooms) if (!publishing.has(room.id)) this.#startGrace(room.id);
  }

  async #ownedLiveRoom(actor: Session, roomId: RoomId) {
    const room = await this.o.rooms.get(roomId);
    if (room.ownerId !== actor.userId)
      throw forbidden('only the room owner has its stream key', ErrorCode.NotRoomOwner);
    if (room.kind !== 'live') throw conflict('stream keys are for live rooms', ErrorCode.WrongRoomKind);
    if (room.status === 'ended') throw conflict('the room has ended', ErrorCode.RoomEnded);
    return room;
  }

  async streamKeyInfo(actor: Session, roomId: RoomId, origin: string): Promise<StreamKeyInfo> {
    await this.#ownedLiveRoom(actor, roomId);
    const row = await this.o.db
      .selectFrom('stream_keys')
      .select('created_at')
      .where('room_id', '=', roomId)
      .executeTakeFirst();
    return {
      exists: Boolean(row),
      createdAt: row ? row.created_at.toISOString() : null,
      whipUrl: whipUrl(roomId, origin),
    };
  }

  /** A new stream key for the room (the old one stops working); shown this once. */
  async createStreamKey(actor: Session, roomId: RoomId, origin: string): Promise<StreamKeyResponse> {
    await this.#ownedLiveRoom(actor, roomId);
    const streamKey = `${STREAM_KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
    const createdAt = new Date();
    await this.o.db
      .insertInto('stream_keys')
      .values({ room_id: roomId, key_hash: hashKey(streamKey), created_at: createdAt })
      .onConflict((oc) => oc.column('room_id').doUpdateSet({ key_hash: hashKey(streamKey), created_at: createdAt }))
      .execute();
    this.o.logger.info({ roomId }, 'stream key created');
    return { streamKey, createdAt: createdAt.toISOString(), whipUrl: whipUrl(roomId, origin) };
  }

  /** The SFU asks: does this key open this room? Yes → a publish grant for the room's owner. */
  async admit(roomId: RoomId, streamKey: string): Promise<string | null> {
    const row = await this.o.db
      .selectFrom('stream_keys')
      .innerJoin('rooms', 'rooms.id', 'stream_keys.room_id')
      .select(['rooms.owner_id', 'rooms.status', 'rooms.kind'])
      .where('stream_keys.room_id', '=', roomId)
      .where('stream_keys.key_hash', '=', hashKey(streamKey))
      .executeTakeFirst();
    if (!row || row.status === 'ended' || row.kind !== 'live') return null;
    // Room owners are accounts (guests cannot create rooms): the encoder may use TURN.
    return (await this.o.grants.mint({ userId: row.owner_id, isGuest: false }, roomId, 'publish')).token;
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#graceTimers.values()) clearTimeout(t);
    this.#graceTimers.clear();
  }
}
