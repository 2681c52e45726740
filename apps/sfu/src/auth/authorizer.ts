import { timingSafeEqual } from 'node:crypto';
import { AppError, forbidden, type Logger, unauthorized } from '@fusionflow/kit';
import {
  ErrorCode,
  GRANT_AUDIENCE,
  GRANT_ISSUER,
  GrantClaims,
  type GrantRole,
  type IceServer,
  type RecordingClaim,
  type RelayClaim,
  STREAM_KEY_PREFIX,
} from '@fusionflow/protocol';
import { createLocalJWKSet, createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { GrantRevocations } from './grant-revocations.js';

export interface Admission {
  /** The grant's subject; null for shared tokens and open mode. */
  userId: string | null;
  via: 'grant' | 'stream_key' | 'room_token' | 'auth_token' | 'jwt' | 'open';
  /** A control-plane grant's id (`jti`): one live session per grant. Null for everything else. */
  grantId: string | null;
  /** The ICE servers the grant carries for its holder's `Link` headers; undefined without a grant. */
  iceServers: IceServer[] | undefined;
  /** The recording a publish grant names (`rec`): this broadcast is recorded under that id. */
  recording?: RecordingClaim | undefined;
  /** A subscribe grant placed away from the room's origin: where to relay the room from (`relay`). */
  relay?: RelayClaim | undefined;
}

const shared = (via: 'room_token' | 'auth_token' | 'open'): Admission => ({
  userId: null,
  via,
  grantId: null,
  iceServers: undefined,
});

export interface AuthorizerOptions {
  roomTokens: Readonly<Record<string, string>> | undefined;
  authToken: string | undefined;
  /** HS256 secret of standalone JWTs. */
  jwtSecret: string | undefined;
  /** The control plane's public keys (grants). */
  jwksUrl: string | undefined;
  jwks: string | undefined;
  /** Trades a stream key for a grant; undefined without a control plane. */
  admitStreamKey: ((room: string, key: string) => Promise<string | null>) | undefined;
  /** Grants the control plane revoked (bans): refused although their signature is good. */
  revocations?: GrantRevocations;
  logger: Logger;
}

const safeEqual = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

const looksLikeJwt = (t: string) => /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(t);

/**
 * Who may publish to or watch a room. In order (seed 004's, extended with grants and stream keys):
 * the room's token (ROOM_TOKENS), the global token (AUTH_TOKEN), a JWT — a control-plane grant
 * verified with the JWKS, or an HS256 token signed with JWT_SECRET — or a stream key the control
 * plane admits; and only when none of these is configured, anyone (logged as a warning at start).
 * Grants carry a role: a subscribe grant never publishes; they are for one room and expire.
 */
export class Authorizer {
  readonly #jwks: JWTVerifyGetKey | undefined;
  readonly #hsKey: Uint8Array | undefined;

  constructor(private readonly o: AuthorizerOptions) {
    if (o.jwks) this.#jwks = createLocalJWKSet(JSON.parse(o.jwks));
    else if (o.jwksUrl) {
      this.#jwks = createRemoteJWKSet(new URL(o.jwksUrl), { cacheMaxAge: 10 * 60_000, cooldownDuration: 30_000 });
    }
    if (o.jwtSecret) this.#hsKey = new TextEncoder().encode(o.jwtSecret);
  }

  /** No credential of any kind is configured: every request is let in. */
  get open(): boolean {
    return (
      Object.keys(this.o.roomTokens ?? {}).length === 0 &&
      !this.o.authToken &&
      !this.#jwks &&
      !this.#hsKey &&
      !this.o.admitStreamKey
    );
  }

  /** The methods in force, for the start-up log. */
  describe(): string[] {
    const out: string[] = [];
    if (Object.keys(this.o.roomTokens ?? {}).length > 0) out.push('room tokens');
    if (this.o.authToken) out.push('global token');
    if (this.#jwks) out.push('grants (JWKS)');
    if (this.#hsKey) out.push('HS256 JWTs');
    if (this.o.admitStreamKey) out.push('stream keys');
    return out.length > 0 ? out : ['open (no authentication)'];
  }

  async admit(room: string, role: GrantRole, bearer: string | undefined): Promise<Admission> {
    if (this.open) return shared('open');
    if (!bearer) throw unauthorized('send Authorization: Bearer <grant, token or stream key>');
    const roomToken = this.o.roomTokens?.[room];
    if (roomToken && safeEqual(bearer, roomToken)) return shared('room_token');
    if (this.o.authToken && safeEqual(bearer, this.o.authToken)) return shared('auth_token');
    if (looksLikeJwt(bearer) && (this.#jwks || this.#hsKey)) return this.#verifyJwt(bearer, room, role);
    if (bearer.startsWith(STREAM_KEY_PREFIX) && this.o.admitStreamKey) {
      if (role !== 'publish') throw forbidden('a stream key only publishes');
      const grant = await this.o.admitStreamKey(room, bearer).catch((err: unknown) => {
        this.o.logger.error({ err }, 'stream-key admission failed');
        throw new AppError(ErrorCode.Unavailable, 'the control plane cannot check stream keys right now');
      });
      if (!grant) throw unauthorized('this stream key does not open this room');
      const admission = await this.#verifyJwt(grant, room, role);
      return { ...admission, via: 'stream_key' };
    }
    throw unauthorized('invalid credentials');
  }

  async #verifyJwt(token: string, room: string, role: GrantRole): Promise<Admission> {
    if (this.#jwks) {
      try {
        const { payload } = await jwtVerify(token, this.#jwks, {
          issuer: GRANT_ISSUER,
          audience: GRANT_AUDIENCE,
          algorithms: ['EdDSA'],
        });
        const claims = GrantClaims.parse(payload);
        if (claims.room !== room) throw forbidden(`this grant is for room ${claims.room}`);
        if (claims.role !== role) {
          throw forbidden(role === 'publish' ? 'a subscribe grant cannot publish' : 'this grant is for publishing');
        }
        if (this.o.revocations?.revoked(claims.sub, room, claims.iat)) {
          throw forbidden('this grant was revoked', ErrorCode.GrantRevoked);
        }
        return {
          userId: claims.sub,
          via: 'grant',
          grantId: claims.jti,
          iceServers: claims.ice,
          recording: claims.rec,
          relay: claims.relay,
        };
      } catch (err) {
        if (err instanceof AppError) throw err;
        if (err instanceof errors.JWTExpired) throw unauthorized('the grant has expired', ErrorCode.TokenExpired);
        if (!this.#hsKey) throw unauthorized('invalid grant');
      }
    }
    try {
      const { payload } = await jwtVerify(token, this.#hsKey!, { algorithms: ['HS256'] });
      const claimRoom = typeof payload.room === 'string' ? payload.room : '';
      if (claimRoom !== '' && claimRoom !== room) throw forbidden(`this token is for room ${claimRoom}`);
      if (payload.role === 'subscribe' && role === 'publish') throw forbidden('a subscribe token cannot publish');
      if (payload.role === 'publish' && role === 'subscribe') throw forbidden('this token is for publishing');
      // Standalone JWTs may be shared by many viewers: no one-session rule, the SFU's own ICE servers.
      const userId = typeof payload.sub === 'string' ? payload.sub : null;
      return { userId, via: 'jwt', grantId: null, iceServers: undefined };
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (err instanceof errors.JWTExpired) throw unauthorized('the token has expired', ErrorCode.TokenExpired);
      throw unauthorized('invalid token');
    }
  }
}
