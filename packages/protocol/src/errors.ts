import { z } from 'zod';
import { text } from './text.js';

/**
 * Every error the platform reports carries one of these codes. The code decides the HTTP status
 * (and the WebSocket close code where a socket is closed because of it); the message is for humans.
 */
export const ErrorCode = {
  BadRequest: 'bad_request',
  ValidationFailed: 'validation_failed',
  MalformedJson: 'malformed_json',
  PayloadTooLarge: 'payload_too_large',
  UnsupportedMediaType: 'unsupported_media_type',
  Unauthorized: 'unauthorized',
  TokenExpired: 'token_expired',
  InvalidCredentials: 'invalid_credentials',
  RefreshTokenReused: 'refresh_token_reused',
  /** The access token's session was signed out (or ended because its refresh token was stolen). */
  SessionEnded: 'session_ended',
  Forbidden: 'forbidden',
  NotRoomOwner: 'not_room_owner',
  NotFound: 'not_found',
  RoomNotFound: 'room_not_found',
  /** No account has this handle (GET /api/channels/:handle). */
  ChannelNotFound: 'channel_not_found',
  RecordingNotFound: 'recording_not_found',
  RecordingRoomMismatch: 'recording_room_mismatch',
  /** A replay's media URL whose token is missing, expired or not one the control plane signed. */
  InvalidToken: 'invalid_token',
  Conflict: 'conflict',
  EmailTaken: 'email_taken',
  /** Another account has this handle (sign-up, profile). */
  HandleTaken: 'handle_taken',
  /** A password-reset link that is unknown, used already or expired. */
  ResetTokenInvalid: 'reset_token_invalid',
  RoomIdTaken: 'room_id_taken',
  RoomEnded: 'room_ended',
  InvalidTransition: 'invalid_transition',
  /** A live room's summary before it ever went live. */
  RoomNotStarted: 'room_not_started',
  WrongRoomKind: 'wrong_room_kind',
  /** A call has its four peers, a private call its payer, or (WHEP) the SFU its most subscribers. */
  RoomFull: 'room_full',
  NotJoined: 'not_joined',
  PeerNotFound: 'peer_not_found',
  RateLimited: 'rate_limited',
  /** Real-time: the account (or, for guests, the address) already has its most open connections. */
  TooManyConnections: 'too_many_connections',
  /** Chat: the sender is muted in the room (`retryAfterSeconds` says for how long). */
  Muted: 'muted',
  /** The user is banned from the room (chat and media). */
  Banned: 'banned',
  /** Chat: the message contains a word on the room's blocked list. */
  MessageBlocked: 'message_blocked',
  InsufficientBalance: 'insufficient_balance',
  TicketRequired: 'ticket_required',
  PriceChanged: 'price_changed',
  IdempotencyKeyRequired: 'idempotency_key_required',
  IdempotencyKeyConflict: 'idempotency_key_conflict',
  AlreadyEntitled: 'already_entitled',
  /** Payouts: an admin tried to approve their own payout (another admin must). */
  SelfApproval: 'self_approval',
  /** Payouts above PAYOUT_SECOND_APPROVAL_TOKENS: the second approval must come from another admin. */
  SecondApprovalRequired: 'second_approval_required',
  /** The account is suspended (`details`: `{ reason, until }`). */
  Suspended: 'suspended',
  /** The platform's last admin cannot lose the role or be suspended. */
  LastAdmin: 'last_admin',
  WebhookSignatureInvalid: 'webhook_signature_invalid',
  WebhookStale: 'webhook_stale',
  /** WHIP/WHEP: the grant was revoked (its user was banned from the room) although it has not expired. */
  GrantRevoked: 'grant_revoked',
  /** WHIP/WHEP: the body is not an SDP offer the SFU can answer. */
  InvalidSdp: 'invalid_sdp',
  /** WHEP: nobody is publishing to the room. */
  NoPublisher: 'no_publisher',
  /** WHIP: the room already has a publisher. */
  PublisherExists: 'publisher_exists',
  /** WHIP/WHEP PATCH: `If-Match` names another ICE session. */
  PreconditionFailed: 'precondition_failed',
  ProtocolMismatch: 'protocol_mismatch',
  /** WHEP: the media server holds its most viewers (`SFU_MAX_VIEWERS`); retry after `Retry-After` seconds. */
  SfuFull: 'sfu_full',
  /** WHIP/WHEP: this media node is draining (it takes no new sessions); get a new grant after `Retry-After` seconds. */
  SfuDraining: 'sfu_draining',
  Unavailable: 'unavailable',
  Internal: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Codes the SDK reports for failures that never produced a server error: no answer, an answer
 * that does not match the protocol, or a client that is closed. With `ErrorCode` they are every
 * code a `FusionFlowError` can carry.
 */
export const ClientErrorCode = {
  /** The request never got an answer (offline, DNS, connection refused, aborted). */
  NetworkError: 'network_error',
  /** The server answered with something that does not match the protocol schema. */
  InvalidResponse: 'invalid_response',
  /** Real-time: there is no connection (or the room is not joined yet), so nothing was sent. */
  NotConnected: 'not_connected',
  /** Real-time: the connection dropped before the answer; the server may or may not have handled it. */
  Disconnected: 'disconnected',
  /** Real-time: no answer within the time limit; the server may or may not have handled it. */
  Timeout: 'timeout',
  /** The client (or its connection) was closed. */
  Closed: 'closed',
  /** The server took this member out of the room (other than for a ban). */
  Removed: 'removed',
  /** The camera or microphone could not be opened (denied, busy or missing). */
  DeviceUnavailable: 'device_unavailable',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** Every code a client can see: the server's and its own. */
export type AnyErrorCode = ErrorCode | ClientErrorCode;

const knownCodes = new Set<string>([...Object.values(ErrorCode), ...Object.values(ClientErrorCode)]);

/** Whether a code (e.g. from the wire) is one the protocol lists. */
export function isKnownErrorCode(code: string): code is AnyErrorCode {
  return knownCodes.has(code);
}

const httpStatusByCode: Record<ErrorCode, number> = {
  bad_request: 400,
  validation_failed: 400,
  malformed_json: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  unauthorized: 401,
  token_expired: 401,
  invalid_credentials: 401,
  refresh_token_reused: 401,
  session_ended: 401,
  forbidden: 403,
  not_room_owner: 403,
  not_found: 404,
  room_not_found: 404,
  channel_not_found: 404,
  recording_not_found: 404,
  recording_room_mismatch: 409,
  invalid_token: 403,
  conflict: 409,
  email_taken: 409,
  handle_taken: 409,
  reset_token_invalid: 400,
  room_id_taken: 409,
  room_ended: 409,
  invalid_transition: 409,
  room_not_started: 409,
  wrong_room_kind: 409,
  room_full: 403,
  not_joined: 409,
  peer_not_found: 404,
  rate_limited: 429,
  too_many_connections: 429,
  muted: 403,
  banned: 403,
  message_blocked: 422,
  insufficient_balance: 402,
  ticket_required: 402,
  price_changed: 409,
  idempotency_key_required: 400,
  idempotency_key_conflict: 409,
  already_entitled: 409,
  self_approval: 403,
  second_approval_required: 403,
  suspended: 403,
  last_admin: 409,
  webhook_signature_invalid: 401,
  webhook_stale: 401,
  grant_revoked: 403,
  invalid_sdp: 400,
  no_publisher: 409,
  publisher_exists: 409,
  precondition_failed: 412,
  protocol_mismatch: 400,
  sfu_full: 503,
  sfu_draining: 503,
  unavailable: 503,
  internal_error: 500,
};

/** The HTTP status an error code maps to. Unknown codes are internal errors. */
export function httpStatusOf(code: string): number {
  return httpStatusByCode[code as ErrorCode] ?? 500;
}

/** WebSocket close codes (4000-4999 is the application range of RFC 6455). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  Unauthorized: 4401,
  TokenExpired: 4402,
  Forbidden: 4403,
  ProtocolMismatch: 4400,
  RateLimited: 4429,
  Internal: 4500,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The WebSocket close code for an error code. */
export function closeCodeOf(code: string): CloseCode {
  switch (code) {
    case ErrorCode.TokenExpired:
      return CloseCode.TokenExpired;
    case ErrorCode.Unauthorized:
    case ErrorCode.InvalidCredentials:
    case ErrorCode.SessionEnded:
      return CloseCode.Unauthorized;
    case ErrorCode.Forbidden:
      return CloseCode.Forbidden;
    case ErrorCode.ProtocolMismatch:
      return CloseCode.ProtocolMismatch;
    case ErrorCode.RateLimited:
    case ErrorCode.TooManyConnections:
      return CloseCode.RateLimited;
    default:
      return httpStatusOf(code) >= 500 ? CloseCode.Internal : CloseCode.Forbidden;
  }
}

/** Body of every error response: `{ error: { code, message, details? } }`. */
export const ErrorBody = z.object({
  error: z.object({
    code: text(),
    message: text(),
    details: z.unknown().optional(),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;
