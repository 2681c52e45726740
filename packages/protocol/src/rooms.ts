import { z } from 'zod';
import { RoomId, UserId } from './ids.js';
import { text } from './text.js';

export const RoomKind = z.enum(['live', 'call']);
export type RoomKind = z.infer<typeof RoomKind>;

/** Lifecycle: created → live → ended. `ended` is final. */
export const RoomStatus = z.enum(['created', 'live', 'ended']);
export type RoomStatus = z.infer<typeof RoomStatus>;

/** A price in whole tokens. */
export const TokenAmount = z.number().int().min(0).max(1_000_000);

export const RoomTitle = text().trim().min(1, 'title must not be empty').max(140);

export const CreateRoomRequest = z
  .strictObject({
    /** Optional readable id; generated when absent. */
    id: RoomId.optional(),
    kind: RoomKind,
    title: RoomTitle,
    /** Tokens a viewer pays once to watch a `live` room. */
    ticketPrice: TokenAmount.optional(),
    /** Live rooms: record each broadcast as a replay (default true). */
    record: z.boolean().optional(),
    /** Tokens charged per started minute of a private `call` room. */
    pricePerMinute: TokenAmount.optional(),
  })
  .refine((r) => r.ticketPrice === undefined || r.kind === 'live', {
    message: 'ticketPrice applies to live rooms only',
    path: ['ticketPrice'],
  })
  .refine((r) => r.record === undefined || r.kind === 'live', {
    message: 'record applies to live rooms only',
    path: ['record'],
  })
  .refine((r) => r.pricePerMinute === undefined || r.kind === 'call', {
    message: 'pricePerMinute applies to call rooms only',
    path: ['pricePerMinute'],
  });
export type CreateRoomRequest = z.infer<typeof CreateRoomRequest>;

export const UpdateRoomRequest = z
  .strictObject({
    title: RoomTitle.optional(),
    ticketPrice: TokenAmount.nullable().optional(),
    pricePerMinute: TokenAmount.nullable().optional(),
    /** Only forward transitions: created → live (going live by hand; the SFU also does it). */
    status: z.literal('live').optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'give at least one field to change' });
export type UpdateRoomRequest = z.infer<typeof UpdateRoomRequest>;

export const Room = z.object({
  id: RoomId,
  kind: RoomKind,
  title: text(),
  status: RoomStatus,
  ownerId: UserId,
  ownerName: text(),
  /** The owner's channel address (`/c/<handle>`). */
  ownerHandle: text(),
  ticketPrice: z.number().int().nullable(),
  pricePerMinute: z.number().int().nullable(),
  /** Live rooms: whether broadcasts are recorded (replays); false for calls. */
  record: z.boolean(),
  viewerCount: z.number().int(),
  createdAt: text(),
  startedAt: text().nullable(),
  endedAt: text().nullable(),
});
export type Room = z.infer<typeof Room>;

export const ListRoomsQuery = z.strictObject({
  /** Filter by status; without it, rooms that are not ended. */
  status: RoomStatus.optional(),
  kind: RoomKind.optional(),
  owner: UserId.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor: text().max(200).optional(),
});
export type ListRoomsQuery = z.infer<typeof ListRoomsQuery>;

export const ListRoomsResponse = z.object({
  rooms: z.array(Room),
  nextCursor: text().nullable(),
});
export type ListRoomsResponse = z.infer<typeof ListRoomsResponse>;

export const RoomParams = z.strictObject({ id: RoomId });

/**
 * A live room's broadcast in numbers, for its streamer (GET /api/rooms/:id/summary). While the room
 * is still live the figures run up to now. Token amounts are what the streamer's earnings account
 * received: after the platform fee and any studio share.
 */
export const BroadcastSummary = z.object({
  roomId: RoomId,
  status: z.enum(['live', 'ended']),
  /** From going live to ending (or now), whole seconds. */
  durationSeconds: z.number().int().min(0),
  peakViewers: z.number().int().min(0),
  /** The viewer count averaged over the time live (its time integral / duration), one decimal. */
  averageViewers: z.number().min(0),
  /** Tokens the streamer earned from tips in this room. */
  tipsEarned: z.number().int(),
  /** Tickets bought for this room (for the broadcast or, afterwards, its replay). */
  ticketsSold: z.number().int().min(0),
  ticketsEarned: z.number().int(),
  /** Chat messages in the room, not counting those a moderator (or their author) deleted. */
  messages: z.number().int().min(0),
});
export type BroadcastSummary = z.infer<typeof BroadcastSummary>;
