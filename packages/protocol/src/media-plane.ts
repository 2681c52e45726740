import { z } from 'zod';
import { RoomId } from './ids.js';
import { text } from './text.js';

/**
 * The contract between the control plane and the media plane (SFU): events the SFU reports, the
 * SFU's admin API, stream-key admission and the WHEP/WHIP session events a browser listens to.
 * Internal requests in both directions are signed (see `INTERNAL_SIGNATURE` below).
 */

/** Headers of a signed internal request: unix seconds and hex HMAC-SHA256 (see kit's `signInternalRequest`). */
export const INTERNAL_SIGNATURE = {
  timestampHeader: 'x-ff-timestamp',
  signatureHeader: 'x-ff-signature',
  /** A signed request older or newer than this is refused (replays, clock trouble). */
  maxSkewSeconds: 30,
} as const;

export const MediaEventType = z.enum([
  'publisher_started',
  'publisher_stopped',
  'subscriber_joined',
  'subscriber_left',
]);
export type MediaEventType = z.infer<typeof MediaEventType>;

/** What the SFU tells the control plane (POST /api/internal/sfu/events). */
export const MediaEvent = z.strictObject({
  /** Unique per event; the control plane ignores an id it has already seen. */
  id: text().min(1).max(64),
  type: MediaEventType,
  room: RoomId,
  sessionId: text().min(1).max(64),
  /** The grant's subject; null for sessions admitted without one (standalone tokens, open mode). */
  userId: text().max(64).nullable(),
  /** Subscribers in the room after this event (absolute, so a lost event heals on the next). */
  subscribers: z.number().int().min(0),
  /** Why a session stopped: `deleted`, `ice_failed`, `kicked`, `room_closed`, `publisher_left`, `shutdown`. */
  reason: text().max(64).optional(),
  at: text(),
});
export type MediaEvent = z.infer<typeof MediaEvent>;

/** Stream-key admission (POST /api/internal/sfu/admit): the SFU trades an encoder's key for a grant. */
export const StreamKeyAdmitRequest = z.strictObject({ room: RoomId, streamKey: text().min(1).max(200) });
export type StreamKeyAdmitRequest = z.infer<typeof StreamKeyAdmitRequest>;
export const StreamKeyAdmitResponse = z.object({ token: text() });
export type StreamKeyAdmitResponse = z.infer<typeof StreamKeyAdmitResponse>;

export const SfuSessionKind = z.enum(['publisher', 'subscriber']);
export type SfuSessionKind = z.infer<typeof SfuSessionKind>;

export const SfuSessionInfo = z.object({
  id: text(),
  kind: SfuSessionKind,
  room: text(),
  userId: text().nullable(),
  /** ICE connection state of the session's peer connection. */
  state: text(),
  createdAt: text(),
  /** Subscribers: the simulcast layer (rid) forwarded to them, null without simulcast. */
  layer: text().nullable().optional(),
  /** Subscribers: RTP packets sent to them so far. */
  packetsSent: z.number().int().optional(),
  /** Subscribers: packets not sent (waiting for a keyframe, or the transport could not send). */
  packetsDropped: z.number().int().optional(),
});
export type SfuSessionInfo = z.infer<typeof SfuSessionInfo>;

export const SfuRoomInfo = z.object({
  room: text(),
  publisher: SfuSessionInfo.nullable(),
  subscribers: z.array(SfuSessionInfo),
  /** Simulcast layers (rids) the publisher sends; empty without simulcast. */
  layers: z.array(text()),
});
export type SfuRoomInfo = z.infer<typeof SfuRoomInfo>;

/** GET /api/admin/rooms on the SFU. */
export const SfuRoomsResponse = z.object({ rooms: z.array(SfuRoomInfo) });
export type SfuRoomsResponse = z.infer<typeof SfuRoomsResponse>;

/**
 * Admin: revoke a user's grants for one room (a ban) or, without `room`, every room (a suspension):
 * grants issued at or before `issuedBefore` (unix seconds, the control plane's clock) are refused
 * and the user's sessions end now.
 */
export const SfuRevocationRequest = z.strictObject({
  userId: text().min(1).max(200),
  room: RoomId.optional(),
  issuedBefore: z.number().int().nonnegative(),
});
export type SfuRevocationRequest = z.infer<typeof SfuRevocationRequest>;
export const SfuRevocationResponse = z.object({ kicked: z.number().int().nonnegative() });
export type SfuRevocationResponse = z.infer<typeof SfuRevocationResponse>;

const Rid = text().regex(/^[A-Za-z0-9_-]{1,16}$/);

/**
 * WHEP layer choice (POST <session URL>/layer), FusionFlow's `{ rid }` or draft-ietf-wish-whep's body: `rid` (or the
 * draft's `encodingId`, the same rid) picks a simulcast layer, `null` or absent means automatic; `maxHeight` (or
 * `maxWidth`) without a rid picks the tallest layer that fits; `mediaId` is the video m-line's index (default: the
 * first video m-line). Spatial and temporal layer ids are accepted and not acted on (the SFU forwards simulcast, not
 * SVC layers).
 */
export const LayerRequest = z.strictObject({
  mediaId: text()
    .regex(/^[0-9]{1,3}$/)
    .optional(),
  rid: Rid.nullable().optional(),
  encodingId: Rid.nullable().optional(),
  spatialLayerId: z.number().int().min(0).max(15).optional(),
  temporalLayerId: z.number().int().min(0).max(15).optional(),
  spatialLayer: z.number().int().min(0).max(15).optional(),
  temporalLayer: z.number().int().min(0).max(15).optional(),
  maxSpatialLayerId: z.number().int().min(0).max(15).optional(),
  maxTemporalLayerId: z.number().int().min(0).max(15).optional(),
  maxWidth: z.number().int().min(1).max(16_384).optional(),
  maxHeight: z.number().int().min(1).max(16_384).optional(),
});
export type LayerRequest = z.infer<typeof LayerRequest>;

/**
 * Server-sent events of a WHIP or WHEP session (GET <session URL>/events, text/event-stream; the
 * event name is `type`, the data this JSON).
 */
export const SessionEvent = z.discriminatedUnion('type', [
  /** Subscribers watching the room now. */
  z.object({ type: z.literal('viewers'), count: z.number().int().min(0) }),
  /**
   * Simulcast layers available and the one forwarded to this subscriber (null: automatic), with
   * each layer's picture height where the SFU knows it (from VP8 keyframes), for "720p" labels.
   */
  z.object({
    type: z.literal('layers'),
    available: z.array(text()),
    current: text().nullable(),
    heights: z.record(text(), z.number().int().min(0).max(16_384)).optional(),
  }),
  /** The session ended on the server side: `publisher_left`, `room_closed`, `kicked`, `ice_failed`, `shutdown`. */
  z.object({ type: z.literal('ended'), reason: text() }),
]);
export type SessionEvent = z.infer<typeof SessionEvent>;

/** Stream keys let an encoder (OBS) publish without a signed-in browser: `Authorization: Bearer <key>`. */
export const STREAM_KEY_PREFIX = 'sk_';

/** GET /api/rooms/:id/stream-key: whether the room has a key (the key itself is stored hashed). */
export const StreamKeyInfo = z.object({
  exists: z.boolean(),
  createdAt: text().nullable(),
  whipUrl: text(),
});
export type StreamKeyInfo = z.infer<typeof StreamKeyInfo>;

/** POST /api/rooms/:id/stream-key: a new key (replacing any old one), shown this once. */
export const StreamKeyResponse = z.object({
  streamKey: text(),
  createdAt: text(),
  whipUrl: text(),
});
export type StreamKeyResponse = z.infer<typeof StreamKeyResponse>;

/**
 * GET /api/admin/network on the SFU: the ICE addresses it advertises and the addresses its machine
 * has, so the control plane's doctor can tell an address that is not the SFU's own.
 */
export const SfuNetworkInfo = z.object({
  /** ICE_ADDRESSES: extra host candidates offered to browsers. */
  iceAddresses: z.array(text()),
  /** ICE_ONLY_ADDRESSES: only those are offered. */
  iceOnlyAddresses: z.boolean(),
  /** ICE_PORT_RANGE, or null for random ports. */
  icePortRange: z.tuple([z.number().int(), z.number().int()]).nullable(),
  /** Every address of the SFU machine's interfaces (loopback included). */
  interfaces: z.array(text()),
  /** The SFU's clock (ISO 8601), for the doctor's clock check. */
  time: text(),
});
export type SfuNetworkInfo = z.infer<typeof SfuNetworkInfo>;
