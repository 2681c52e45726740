import { forbidden, unauthorized } from '@fusionflow/kit';
import type { SessionRole } from '@fusionflow/protocol';
import type { FastifyRequest } from 'fastify';
import type { AccessTokens, Session } from './access-tokens.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the auth guard's pre-handlers; null for anonymous requests. */
    session: Session | null;
  }
}

export type Guard = (request: FastifyRequest) => Promise<void>;

/** Pre-handlers that read the `Authorization: Bearer` access token and enforce who may call a route. */
export interface AuthGuard {
  /** Reads the session when there is one; anonymous requests pass. */
  optional: Guard;
  /** Any session, guests included. */
  session: Guard;
  /** A signed-in account (not a guest). */
  account: Guard;
  /** A signed-in account with one of these roles. */
  roles(...roles: SessionRole[]): Guard;
}

/** Roles whose power is checked against the account as it is now, not as the token says. */
const ELEVATED = new Set<SessionRole>(['moderator', 'admin']);

export interface AuthGuardOptions {
  /**
   * The account's role now (null: no such account). A token that says `moderator` or `admin` is
   * checked against it on every route that needs a role, so a demoted (or suspended, see
   * IdentityService) moderator or admin loses those routes at once, not at their next refresh.
   */
  currentRole?: (userId: string) => Promise<SessionRole | null>;
}

export function createAuthGuard(tokens: AccessTokens, o: AuthGuardOptions = {}): AuthGuard {
  const read = async (request: FastifyRequest): Promise<Session | null> => {
    const header = request.headers.authorization;
    if (!header) return null;
    if (!header.startsWith('Bearer ')) throw unauthorized('use the header Authorization: Bearer <access token>');
    return tokens.verify(header.slice(7).trim());
  };
  const session: Guard = async (request) => {
    request.session = await read(request);
    if (!request.session) throw unauthorized();
  };
  const account: Guard = async (request) => {
    await session(request);
    if (request.session?.isGuest) throw forbidden('sign up or sign in to do this');
  };
  return {
    optional: async (request) => {
      request.session = await read(request);
    },
    session,
    account,
    roles:
      (...roles) =>
      async (request) => {
        await account(request);
        let session = request.session!;
        if (o.currentRole && ELEVATED.has(session.role)) {
          const now = await o.currentRole(session.userId);
          if (now === null) throw unauthorized('no such account');
          if (now !== session.role) request.session = session = { ...session, role: now };
        }
        if (!roles.includes(session.role)) throw forbidden(`needs one of the roles: ${roles.join(', ')}`);
      },
  };
}

/** The session of a request that passed a guard. */
export function sessionOf(request: FastifyRequest): Session {
  if (!request.session) throw unauthorized();
  return request.session;
}
