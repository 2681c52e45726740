import { unauthorized } from '@fusionflow/kit';
import { type AccessClaims, asUserId, ErrorCode, type SessionRole, type UserId } from '@fusionflow/protocol';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';

const ISSUER = 'fusionflow-control';
const AUDIENCE = 'fusionflow-api';

/** Who is making a request, as its access token says. */
export interface Session {
  readonly userId: UserId;
  readonly role: SessionRole;
  readonly displayName: string;
  readonly language: string;
  readonly isGuest: boolean;
}

/** Short-lived HS256 access tokens; the refresh cookie renews them. */
export class AccessTokens {
  readonly #key: Uint8Array;

  constructor(
    secret: string,
    private readonly ttlSeconds: number,
  ) {
    this.#key = new TextEncoder().encode(secret);
  }

  async sign(session: Omit<Session, 'isGuest'>): Promise<{ token: string; expiresAt: Date }> {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.ttlSeconds;
    const claims: Omit<AccessClaims, 'sub'> = {
      role: session.role,
      name: session.displayName,
      lang: session.language,
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

  /** The session a token stands for; `token_expired` or `unauthorized` otherwise. */
  async verify(token: string): Promise<Session> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
      });
      const role = payload.role as SessionRole;
      if (typeof payload.sub !== 'string' || typeof role !== 'string') throw unauthorized('malformed access token');
      return {
        userId: asUserId(payload.sub),
        role,
        displayName: String(payload.name ?? ''),
        language: String(payload.lang ?? 'en'),
        isGuest: role === 'guest',
      };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) {
        throw unauthorized('access token expired; refresh it', ErrorCode.TokenExpired);
      }
      throw unauthorized('invalid access token');
    }
  }
}
