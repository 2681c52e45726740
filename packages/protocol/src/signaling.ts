import { z } from 'zod';
import { ChatClientMessages, ChatServerMessages } from './chat.js';
import { Language } from './identity.js';
import { PeerId, RoomId, UserId } from './ids.js';
import { RoomKind, RoomStatus } from './rooms.js';
import { text } from './text.js';
import { CallBillingMessage } from './wallet.js';

/**
 * Real-time messages over Socket.IO (path `/socket.io` on the control plane's origin). Every
 * message is a Socket.IO event whose name is the message name and whose single argument is the
 * message body. Both sides validate every message with these schemas; docs/protocol.md says the
 * same in words.
 */

/** Socket.IO's path on the control plane's origin. */
export const SIGNALING_PATH = '/socket.io';

/** The most peers a mesh call holds; a fifth join is refused with `room_full`. */
export const MAX_CALL_PEERS = 4;

/** Handshake `auth` of every connection: the access token and the protocol version the client speaks. */
export const HandshakeAuth = z.object({
  token: text().min(1).max(8192),
  protocol: z.union([z.number(), text()]),
});
export type HandshakeAuth = z.infer<typeof HandshakeAuth>;

/** What a peer sends (camera, microphone, screen). The server keeps the expected state of every peer. */
export const MediaState = z.strictObject({
  camera: z.boolean(),
  mic: z.boolean(),
  screen: z.boolean(),
});
export type MediaState = z.infer<typeof MediaState>;
export const NO_MEDIA: MediaState = Object.freeze({ camera: false, mic: false, screen: false });

/** A peer's role in its room: the room's owner hosts, everybody else participates. */
export const PeerRole = z.enum(['host', 'participant']);
export type PeerRole = z.infer<typeof PeerRole>;

/** One member of a room as the server knows it (canonical state). */
export const PeerState = z.object({
  peerId: PeerId,
  userId: UserId,
  displayName: text(),
  role: PeerRole,
  /** An anonymous guest session. */
  guest: z.boolean(),
  /** What the peer is expected to send. */
  media: MediaState,
  /** False while its connection is lost and its slot is held for a reconnect. */
  connected: z.boolean(),
  joinedAt: text(),
});
export type PeerState = z.infer<typeof PeerState>;

export const RoomState = z.object({
  roomId: RoomId,
  kind: RoomKind,
  status: RoomStatus,
  /** Most members at once; null when unlimited. */
  capacity: z.number().int().nullable(),
  peers: z.array(PeerState),
  /** Why the room ended, when someone other than its owner ended it (an admin, with the reason given). */
  endReason: text().optional(),
});
export type RoomState = z.infer<typeof RoomState>;

/** Which peer of a pair makes the offer (exactly one, named by the server). */
export const PeerLink = z.object({ peerId: PeerId, initiatorId: PeerId });
export type PeerLink = z.infer<typeof PeerLink>;

/** Opaque id of one RTCPeerConnection; a new one means "drop the old connection, this is a new one". */
export const SessionTag = text().regex(/^[A-Za-z0-9_-]{1,64}$/, 'session must match ^[A-Za-z0-9_-]{1,64}$');

/** Largest SDP accepted (a four-party mesh offer is a few KiB). */
export const MAX_SDP_LENGTH = 32_768;

export const SdpPayload = z.strictObject({
  sdp: text().min(1).max(MAX_SDP_LENGTH),
  session: SessionTag,
  /** The offer restarts ICE (a new ufrag/pwd). */
  restartIce: z.boolean().optional(),
  /**
   * The initiator numbers its offers within a session; an answer repeats its offer's number, so
   * the answer to an offer that was rolled back is not applied to the one that replaced it.
   */
  revision: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
});
export type SdpPayload = z.infer<typeof SdpPayload>;

export const IceCandidate = z.strictObject({
  candidate: text().max(1024),
  sdpMid: text().max(64).nullable().optional(),
  sdpMLineIndex: z.number().int().min(0).max(255).nullable().optional(),
  usernameFragment: text().max(256).nullable().optional(),
});
export type IceCandidate = z.infer<typeof IceCandidate>;

export const CandidatePayload = z.strictObject({
  session: SessionTag,
  /** null: this side has gathered all its candidates. */
  candidate: IceCandidate.nullable(),
});
export type CandidatePayload = z.infer<typeof CandidatePayload>;

export const SignalKind = z.enum(['offer', 'answer', 'candidate']);
export type SignalKind = z.infer<typeof SignalKind>;

// --- client → server --------------------------------------------------------------------------

/** Enter a room. `resume` is the token `joined` gave out: within the grace period it resumes the same slot. */
export const JoinMessage = z.strictObject({
  roomId: RoomId,
  resume: text().max(200).optional(),
  /** The language this reader reads chat in (the interface's); the profile's preferred language when absent. */
  language: Language.optional(),
});
export type JoinMessage = z.infer<typeof JoinMessage>;

/** An offer, answer or ICE candidate for one peer of the same room. */
export const SignalMessage = z.discriminatedUnion('kind', [
  z.strictObject({ to: PeerId, kind: z.literal('offer'), payload: SdpPayload }),
  z.strictObject({ to: PeerId, kind: z.literal('answer'), payload: SdpPayload }),
  z.strictObject({ to: PeerId, kind: z.literal('candidate'), payload: CandidatePayload }),
]);
export type SignalMessage = z.infer<typeof SignalMessage>;

/** Media-state message from a client: what it wants to send now. */
export const MediaStateMessage = MediaState;
export type MediaStateMessage = MediaState;

/** Why a client asks for a replay. */
export const ReplayReason = z.enum([
  /** Media the server expects from the peer is not arriving. */
  'media-missing',
  /** Media arrives that the server does not expect (this side's state is stale). */
  'state-mismatch',
  /** The peer connection's transport failed: restart ICE. */
  'transport-failed',
  /** This side has no connection to the peer (e.g. after a page reload): start a new one. */
  'no-connection',
]);
export type ReplayReason = z.infer<typeof ReplayReason>;

export const ReplayRequestMessage = z.strictObject({
  peerId: PeerId,
  reason: ReplayReason.default('media-missing'),
});
export type ReplayRequestMessage = z.infer<typeof ReplayRequestMessage>;

/** Leave the room now (no grace period). */
export const LeaveMessage = z.strictObject({}).optional();
export type LeaveMessage = z.infer<typeof LeaveMessage>;

/** Every message a client may send, by name. */
export const ClientMessages = {
  join: JoinMessage,
  signal: SignalMessage,
  'media-state': MediaStateMessage,
  'replay-request': ReplayRequestMessage,
  leave: LeaveMessage,
  ...ChatClientMessages,
} as const;
export type ClientMessageName = keyof typeof ClientMessages;
export type ClientMessage<N extends ClientMessageName> = z.input<(typeof ClientMessages)[N]>;

// --- server → client --------------------------------------------------------------------------

export const JoinedMessage = z.object({
  self: PeerState,
  roomState: RoomState,
  /** For every other peer, who makes the offer. */
  links: z.array(PeerLink),
  /** True when an earlier slot was resumed (no peer-left / peer-joined was sent). */
  resumed: z.boolean(),
  /** Present on the next `join` (e.g. after a reload) to resume this slot within `graceSeconds`. */
  resumeToken: text(),
  graceSeconds: z.number().int(),
});
export type JoinedMessage = z.infer<typeof JoinedMessage>;

export const RoomStateMessage = RoomState;
export type RoomStateMessage = RoomState;

export const PeerJoinedMessage = z.object({
  peerId: PeerId,
  /** The peer of the pair (the newcomer or you) that makes the offer. */
  initiatorId: PeerId,
  peer: PeerState,
});
export type PeerJoinedMessage = z.infer<typeof PeerJoinedMessage>;

/** `removed`: the server took the peer out (a private call's balance ran out, a moderator). */
export const PeerLeftReason = z.enum(['left', 'timeout', 'ended', 'removed']);
export type PeerLeftReason = z.infer<typeof PeerLeftReason>;

export const PeerLeftMessage = z.object({ peerId: PeerId, reason: PeerLeftReason });
export type PeerLeftMessage = z.infer<typeof PeerLeftMessage>;

export const ServerSignalMessage = z.discriminatedUnion('kind', [
  z.object({ from: PeerId, kind: z.literal('offer'), payload: SdpPayload }),
  z.object({ from: PeerId, kind: z.literal('answer'), payload: SdpPayload }),
  z.object({ from: PeerId, kind: z.literal('candidate'), payload: CandidatePayload }),
]);
export type ServerSignalMessage = z.infer<typeof ServerSignalMessage>;

/** The canonical media state of a peer (also sent to that peer itself: it sends what the server holds). */
export const MediaStateUpdateMessage = z.object({ peerId: PeerId, state: MediaState });
export type MediaStateUpdateMessage = z.infer<typeof MediaStateUpdateMessage>;

/**
 * Sent to the initiator of a pair after a `replay-request`: make a new offer to `peerId`
 * (restarting ICE, or on a fresh connection, when asked).
 */
export const RenegotiateMessage = z.object({
  peerId: PeerId,
  reason: ReplayReason,
  restartIce: z.boolean(),
  /** Drop the current connection to the peer and start a new one. */
  fresh: z.boolean(),
});
export type RenegotiateMessage = z.infer<typeof RenegotiateMessage>;

export const SignalingErrorMessage = z.object({
  code: text(),
  message: text(),
  /** The client message that caused it. */
  event: text().optional(),
  /** Set when the server closes the connection because of this error. */
  closeCode: z.number().int().optional(),
  retryAfterSeconds: z.number().optional(),
});
export type SignalingErrorMessage = z.infer<typeof SignalingErrorMessage>;

/** Sent to a peer the server took out of its room; the client ends its side (its peers saw `peer-left`). */
export const RemovedMessage = z.object({
  roomId: RoomId,
  reason: z.enum(['balance', 'moderation']),
  message: text(),
});
export type RemovedMessage = z.infer<typeof RemovedMessage>;

/** Every message the server sends, by name. */
export const ServerMessages = {
  joined: JoinedMessage,
  'room-state': RoomStateMessage,
  'peer-joined': PeerJoinedMessage,
  'peer-left': PeerLeftMessage,
  signal: ServerSignalMessage,
  'media-state': MediaStateUpdateMessage,
  renegotiate: RenegotiateMessage,
  removed: RemovedMessage,
  billing: CallBillingMessage,
  error: SignalingErrorMessage,
  ...ChatServerMessages,
} as const;
export type ServerMessageName = keyof typeof ServerMessages;
export type ServerMessage<N extends ServerMessageName> = z.infer<(typeof ServerMessages)[N]>;

/** Answer to a client message sent with an acknowledgement callback. */
export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: SignalingErrorMessage };

/** Test-only (`TEST_HOOKS=true`): drop the next `media-state` the server would deliver to a peer. */
export const DropMediaStateRequest = z.strictObject({
  roomId: RoomId,
  peerId: PeerId,
  count: z.number().int().min(1).max(10).default(1),
});
export type DropMediaStateRequest = z.infer<typeof DropMediaStateRequest>;

/** Test-only (`TEST_HOOKS=true`): cut the transport of the connection holding a peer's slot. */
export const DropConnectionRequest = z.strictObject({ roomId: RoomId, peerId: PeerId });
export type DropConnectionRequest = z.infer<typeof DropConnectionRequest>;
