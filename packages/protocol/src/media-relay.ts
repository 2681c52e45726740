import { z } from 'zod';
import { RoomId } from './ids.js';
import { MediaNodeId } from './media-directory.js';
import { text } from './text.js';

/**
 * Relays: one live room's audience across SFU nodes (and the workers of one machine, which are nodes too). The
 * publisher sits on the room's origin node; a viewer the control plane places on another node (an edge) carries a
 * `relay` claim in its grant naming the origin, and the edge opens one relay per room from it: one copy of every
 * track and simulcast layer, whatever the number of viewers it feeds.
 *
 * Setting one up is a signed internal request (POST RELAY_PATH on the origin, signed with INTERNAL_SECRET like every
 * internal call). Both sides send an X25519 public key in it; media and feedback then flow over UDP between the two
 * relay sockets, each datagram sealed with AES-128-GCM under a key derived from the two (HKDF-SHA256), so media that
 * leaves the machine is encrypted and a datagram from anyone else is dropped.
 */

/** Where an edge asks the origin for a relay of one room (POST, signed). */
export const RELAY_PATH = '/api/internal/relays';

const httpUrl = () =>
  text()
    .max(2048)
    .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'an http(s) URL');

/** A subscribe grant for a viewer placed away from the room's origin: feed it through a relay from this node. */
export const RelayClaim = z.strictObject({
  /** The origin node's id (as in the directory). */
  node: MediaNodeId,
  /** The origin node's base URL (its report's `url`): where the edge sends the signed relay request. */
  url: httpUrl(),
});
export type RelayClaim = z.infer<typeof RelayClaim>;

/** An X25519 public key, raw 32 bytes in base64url. */
const PublicKey = text().regex(/^[A-Za-z0-9_-]{43}$/, 'an X25519 public key (32 bytes, base64url)');
/** An IPv4 or IPv6 address literal (no host names: nothing is resolved on the media path). */
const IpAddress = text()
  .max(64)
  .regex(/^[0-9a-fA-F:.]+$/, 'an IP address');
const Port = z.number().int().min(1).max(65535);

/** The edge's request: which room, and where its relay socket listens. */
export const RelayRequest = z.strictObject({
  room: RoomId,
  /** The edge's node id. */
  edge: MediaNodeId,
  host: IpAddress,
  port: Port,
  key: PublicKey,
});
export type RelayRequest = z.infer<typeof RelayRequest>;

/** One published track as the relay carries it: its index in every datagram, and what a viewer's answer needs. */
export const RelayTrack = z.strictObject({
  index: z.number().int().min(0).max(15),
  kind: z.enum(['audio', 'video']),
  mid: text().max(32),
  codec: z.strictObject({
    mimeType: text().max(64),
    clockRate: z.number().int().min(1).max(1_000_000),
    channels: z.number().int().min(1).max(8).optional(),
    payloadType: z.number().int().min(0).max(127),
    sdpFmtpLine: text().max(512).optional(),
    rtcpFeedback: z.array(z.strictObject({ type: text().max(32), parameter: text().max(32).optional() })).max(16),
  }),
});
export type RelayTrack = z.infer<typeof RelayTrack>;

/** The origin's answer (201). */
export const RelayAnswer = z.strictObject({
  relayId: text().min(1).max(64),
  host: IpAddress,
  port: Port,
  key: PublicKey,
  tracks: z.array(RelayTrack).min(1).max(16),
});
export type RelayAnswer = z.infer<typeof RelayAnswer>;
