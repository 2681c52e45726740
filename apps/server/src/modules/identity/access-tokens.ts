import { createSecretKey, type KeyObject } from 'node:crypto';
import { unauthorized } from '@fusionflow/kit';
import { type AccessClaims, asUserId, ErrorCode, type SessionRole, type UserId } from '@fusionflow/protocol';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { SessionRevocations } from './session-revocations.js';

const ISSUER = 'fusionflow-control';
const AUDIENCE = 'fusionflow-api';

/** Who is making a request, as its access token says. */
export interface Session {
  readonly userId: UserId;
  readonly role: SessionRole;
  readonly displayName: string;
  readonly language: string;
  readonly isGuest: boolean;
  /** The sign-in this token belongs to (its refresh-token family; a guest's own id); null in tokens that predate it. */
  readonly sessionId: string | null;
}

/** What a token is signed for. */
export type SessionClaims = Omit<Session, 'isGuest' | 'sessionId'> & { sessionId?: string };

/**
 * Short-lived HS256 access tokens; the refresh cookie renews them. Signing out revokes a token's
 * session (`sid`): verify() refuses tokens of a revoked session with `session_ended`.
 */
export class AccessTokens {
  /** Imported once: jose would otherwise import a raw byte key again on every sign and verify. */
  readonly #key: KeyObject;
  /**
   * Tokens whose signature was already checked, until they expire. A token's signature and claims
   * do not change, so this changes no answer (revocation is asked on every verify); it saves the
   * HMAC check (a WebCrypto job in jose) on every request after a client's first. Bounded; oldest
   * evicted first.
   */
  readonly #verified = new Map<string, { session: Session; expiresAtMs: number }>();

  constructor(
    secret: string,
    readonly ttlSeconds: number,
    private readonly revocations?: SessionRevocations,
    private readonly cacheSize = 10_000,
  ) {
    this.#key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  async sign(session: SessionClaims): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.ttlSeconds;
    const claims: Omit<AccessClaims, 'sub'> = {
      role: session.role,
      name: session.displayName,
      lang: session.language,
      ...(session.sessionId ? { sid: session.sessionId } : {}),
    };
    const token = await new SignJWT({ ...claims })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(session.userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.#key);
    return { token, expiresAt: new Date(exp * 1000) };
  }

  /** The session a token stands for; `token_expired`, `session_ended` or `unauthorized` otherwise. */
  async verify(token: string): Promise<Session> {
    const session = await this.#checkSignature(token);
    if (session.sessionId !== null && (await this.revocations?.isRevoked(session.sessionId))) {
      throw unauthorized('this session was signed out; sign in again', ErrorCode.SessionEnded);
    }
    return session;
  }

  /** End a session now: its access tokens are refused from here on (for as long as one can be valid). */
  async revoke(sessionId: string): Promise<void> {
    // A few seconds past the lifetime: clocks of several processes differ a little.
    await this.revocations?.revoke(sessionId, this.ttlSeconds + 5);
  }

  /** How many verified tokens are remembered. */
  get cached(): number {
    return this.#verified.size;
  }

  async #checkSignature(token: string): Promise<Session> {
    const cached = this.#verified.get(token);
    if (cached) {
      if (cached.expiresAtMs > Date.now()) return cached.session;
      this.#verified.delete(token);
    }
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
      });
      const role = payload.role as SessionRole;
      if (typeof payload.sub !== 'string' || typeof role !== 'string') throw unauthorized('malformed access token');
      const session: Session = {
        userId: asUserId(payload.sub),
        role,
        displayName: String(payload.name ?? ''),
        language: String(payload.lang ?? 'en'),
        isGuest: role === 'guest',
        sessionId: typeof payload.sid === 'string' && payload.sid !== '' ? payload.sid : null,
      };
      if (this.#verified.size >= this.cacheSize) this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, { session, expiresAtMs: (payload.exp ?? 0) * 1000 });
      return session;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) {
        throw unauthorized('access token expired; refresh it', ErrorCode.TokenExpired);
      }
      throw unauthorized('invalid access token');
    }
  }
}
