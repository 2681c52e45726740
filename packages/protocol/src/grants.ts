import { z } from 'zod';
import { RelayClaim } from './media-relay.js';
import { RecordingClaim } from './recording.js';
import { text } from './text.js';

/** What a media-plane grant allows. A `subscribe` grant can never publish. */
export const GrantRole = z.enum(['publish', 'subscribe']);
export type GrantRole = z.infer<typeof GrantRole>;

export const GrantRequest = z.strictObject({ role: GrantRole });
export type GrantRequest = z.infer<typeof GrantRequest>;

/** An RTCIceServer as the browser takes it. */
export const IceServer = z.object({
  urls: z.union([text(), z.array(text())]),
  username: text().optional(),
  credential: text().optional(),
});
export type IceServer = z.infer<typeof IceServer>;

export const GrantResponse = z.object({
  token: text(),
  expiresAt: text(),
  iceServers: z.array(IceServer),
  whipUrl: text().optional(),
  whepUrl: text().optional(),
  /**
   * The media node the session was placed on (also in the URL as `?node=`); absent when the control
   * plane has one SFU that does not report itself (the embedded one, or SFU_URL).
   */
  node: text().optional(),
});
export type GrantResponse = z.infer<typeof GrantResponse>;

export const IceServersResponse = z.object({
  iceServers: z.array(IceServer),
  /** Seconds the credentials stay valid. */
  ttl: z.number().int(),
});
export type IceServersResponse = z.infer<typeof IceServersResponse>;

/** Issuer and audience of grants: the SFU accepts only tokens with exactly these. */
export const GRANT_ISSUER = 'fusionflow-control';
export const GRANT_AUDIENCE = 'fusionflow-media';

/** Claims of a grant (EdDSA JWT signed by the control plane, verified by the SFU with the JWKS). */
export const GrantClaims = z.object({
  iss: z.literal(GRANT_ISSUER),
  aud: z.union([z.literal(GRANT_AUDIENCE), z.array(text()).refine((a) => a.includes(GRANT_AUDIENCE))]),
  sub: text().min(1),
  room: text(),
  role: GrantRole,
  exp: z.number(),
  iat: z.number(),
  /**
   * Unique per grant. The SFU keeps one live session per grant id: a second WHEP POST with the same
   * grant replaces the first session (which ends with `replaced`), so one grant never opens many.
   */
  jti: text().min(1).max(128),
  /** The entitlement (ticket, private-call booking) that paid for this grant, when money is involved. */
  ent: text().optional(),
  /**
   * The ICE servers the SFU announces in its WHIP/WHEP `Link` headers, with the TURN credentials the
   * control plane minted for this grant's holder (TURN for signed-in accounts only; guests get STUN).
   * The media plane holds no TURN secret of its own.
   */
  ice: z.array(IceServer).max(8).optional(),
  /** The media node the control plane placed this session on (see `GrantResponse.node`). */
  node: text().max(64).optional(),
  /** Subscribe grants placed on a node that is not the room's origin: the origin the node relays the room from. */
  relay: RelayClaim.optional(),
  /** Publisher grants of a recorded broadcast: the recording the SFU writes (see recording.ts). */
  rec: RecordingClaim.optional(),
});
export type GrantClaims = z.infer<typeof GrantClaims>;
