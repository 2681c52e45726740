import { randomUUID } from 'node:crypto';
import { AppError, conflict, forbidden, type Logger } from '@fusionflow/kit';
import {
  ErrorCode,
  GRANT_AUDIENCE,
  GRANT_ISSUER,
  type GrantResponse,
  type GrantRole,
  type IceServer,
  onMediaNode,
  type RecordingClaim,
  type RelayClaim,
  type RoomId,
  type UserId,
  whepUrl,
  whipUrl,
} from '@fusionflow/protocol';
import { type JWK, SignJWT } from 'jose';
import type { Session } from '../identity/access-tokens.js';
import type { RoomService } from '../rooms/room-service.js';
import type { GrantSigningKey } from './grant-signing-key.js';
import type { IceHolder, IceServerIssuer } from './ice-server-issuer.js';
import type { Placement } from './placement.js';

export interface GrantServiceOptions {
  rooms: RoomService;
  key: GrantSigningKey;
  ice: IceServerIssuer;
  ttlSeconds: number;
  /** Paid rooms: the ticket (entitlement id) a user holds for a room, if any. */
  tickets: { ticketFor(userId: string, roomId: string): Promise<string | null> };
  /** Who is banned from a room (chat moderation): no grant of any kind for them. */
  bans?: { checkNotBanned(roomId: RoomId, userId: UserId, o: { fresh: true }): Promise<void> };
  /** Which SFU node a session goes to (none: the one SFU, plain URLs). */
  placement?: Placement;
  /** Recorded rooms: the recording a publish grant names (`rec`); none when the room does not record. */
  recordings?: { claimFor(roomId: string): Promise<RecordingClaim | null> };
  logger: Logger;
}

/**
 * Decides who may publish to or watch a live room and hands out the signed grant the SFU executes.
 * Only the room's owner publishes; anyone with a session may subscribe to a free room; a paid room
 * needs a ticket, whose id the grant carries (`ent`).
 */
export class GrantService {
  constructor(private readonly o: GrantServiceOptions) {}

  jwks(): { keys: JWK[] } {
    return { keys: [this.o.key.publicJwk] };
  }

  /**
   * Sign a grant for a user and room, with no further checks (callers decide who gets one). It
   * carries its own id (`jti`: the SFU keeps one live session per grant) and the ICE servers the SFU
   * announces to its holder, with TURN credentials minted here (none for guests). `node` is the SFU node the
   * session was placed on; `relay`, for a viewer placed off the room's origin, the origin that node relays it from.
   */
  async mint(
    holder: IceHolder,
    roomId: RoomId,
    role: GrantRole,
    entitlement?: string,
    node?: string,
    relay?: RelayClaim,
  ): Promise<{ token: string; exp: number; iceServers: IceServer[] }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.o.ttlSeconds;
    const { iceServers } = this.o.ice.issue(holder, now * 1000);
    const rec = role === 'publish' ? await this.o.recordings?.claimFor(roomId) : null;
    const claims = {
      room: roomId,
      role,
      ice: iceServers,
      ...(entitlement ? { ent: entitlement } : {}),
      ...(node ? { node } : {}),
      ...(relay ? { relay } : {}),
      ...(rec ? { rec } : {}),
    };
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: this.o.key.kid, typ: 'JWT' })
      .setIssuer(GRANT_ISSUER)
      .setAudience(GRANT_AUDIENCE)
      .setSubject(holder.userId)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(this.o.key.privateKey);
    return { token, exp, iceServers };
  }

  /** `origin` is the public origin (https://live.example.com) the WHIP/WHEP URLs are built on. */
  async issue(session: Session, roomId: RoomId, role: GrantRole, origin: string): Promise<GrantResponse> {
    const room = await this.o.rooms.get(roomId);
    if (room.status === 'ended') throw conflict('the room has ended', ErrorCode.RoomEnded);
    if (room.kind !== 'live') throw conflict('grants are for live rooms; calls use signaling', ErrorCode.WrongRoomKind);
    if (role === 'publish' && room.ownerId !== session.userId) {
      throw forbidden('only the room owner can publish', ErrorCode.NotRoomOwner);
    }
    // Not from the cache: a ban on another process must stop grants at once (the SFU revoked the older ones).
    if (room.ownerId !== session.userId) await this.o.bans?.checkNotBanned(roomId, session.userId, { fresh: true });
    let entitlement: string | null = null;
    if (role === 'subscribe' && (room.ticketPrice ?? 0) > 0 && room.ownerId !== session.userId) {
      entitlement = session.isGuest ? null : await this.o.tickets.ticketFor(session.userId, roomId);
      if (!entitlement) {
        throw new AppError(
          ErrorCode.TicketRequired,
          session.isGuest
            ? 'this stream needs a ticket; sign in to buy one'
            : `this stream needs a ticket (${room.ticketPrice} tokens)`,
          { ticketPrice: room.ticketPrice },
        );
      }
    }
    // Placement last: a refused grant must not count as load on a node. A full or draining origin is 503 sfu_full.
    // A viewer placed off the origin (an edge) is fed through a relay: its grant names the origin (`relay`).
    const placed = await this.o.placement?.place(roomId, role);
    const node = placed?.nodeId;
    const relay: RelayClaim | undefined = placed?.relayFrom && {
      node: placed.relayFrom.nodeId,
      url: placed.relayFrom.url,
    };
    const { token, exp, iceServers } = await this.mint(session, roomId, role, entitlement ?? undefined, node, relay);
    this.o.logger.debug({ roomId, userId: session.userId, role, nodeId: node, relayFrom: relay?.node }, 'grant issued');
    const response: GrantResponse = { token, expiresAt: new Date(exp * 1000).toISOString(), iceServers };
    if (role === 'publish') response.whipUrl = onMediaNode(whipUrl(roomId, origin), node);
    else response.whepUrl = onMediaNode(whepUrl(roomId, origin), node);
    if (node) response.node = node;
    return response;
  }
}
