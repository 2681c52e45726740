import {
  AdminUpdateUserRequest,
  AuthResponse,
  ErrorBody,
  LoginRequest,
  RegisterRequest,
  UpdateMeRequest,
  User,
  UserId,
} from '@fusionflow/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/http-app.js';
import { type AuthGuard, sessionOf } from './auth-guard.js';
import type { IdentityService, SignedIn } from './identity-service.js';

export const REFRESH_COOKIE = 'ff_refresh';
/**
 * Readable by scripts, holds nothing secret: tells the web app a refresh cookie exists, so a
 * signed-out visitor's page load does not call /api/auth/refresh just to be refused.
 */
export const SESSION_HINT_COOKIE = 'ff_session';
const COOKIE_PATH = '/api/auth';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };

function setRefreshCookie(request: FastifyRequest, reply: FastifyReply, s: SignedIn) {
  reply.setCookie(REFRESH_COOKIE, s.refreshToken, {
    path: COOKIE_PATH,
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    expires: s.refreshTokenExpiresAt,
  });
  reply.setCookie(SESSION_HINT_COOKIE, '1', {
    path: '/',
    httpOnly: false,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    expires: s.refreshTokenExpiresAt,
  });
}

function clearSessionCookies(reply: FastifyReply) {
  reply.clearCookie(REFRESH_COOKIE, { path: COOKIE_PATH });
  reply.clearCookie(SESSION_HINT_COOKIE, { path: '/' });
}

function authBody(s: Pick<SignedIn, 'user' | 'accessToken' | 'accessTokenExpiresAt'>): AuthResponse {
  return { user: s.user, accessToken: s.accessToken, accessTokenExpiresAt: s.accessTokenExpiresAt.toISOString() };
}

export function registerIdentityRoutes(app: HttpApp, identity: IdentityService, guard: AuthGuard): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/api/auth/register', {
    schema: {
      tags: ['identity'],
      summary: 'Create an account (viewer or streamer) and sign in',
      body: RegisterRequest,
      response: { 201: AuthResponse, ...errors },
    },
    handler: async (request, reply) => {
      const signedIn = await identity.register(request.body, request.ip);
      setRefreshCookie(request, reply, signedIn);
      return reply.code(201).send(authBody(signedIn));
    },
  });

  r.post('/api/auth/login', {
    schema: {
      tags: ['identity'],
      summary: 'Sign in with email and password',
      body: LoginRequest,
      response: { 200: AuthResponse, ...errors },
    },
    handler: async (request, reply) => {
      const signedIn = await identity.login(request.body, request.ip);
      setRefreshCookie(request, reply, signedIn);
      return authBody(signedIn);
    },
  });

  r.post('/api/auth/refresh', {
    schema: {
      tags: ['identity'],
      summary: 'Exchange the refresh cookie for a new access token (the cookie rotates)',
      response: { 200: AuthResponse, ...errors },
    },
    handler: async (request, reply) => {
      try {
        const signedIn = await identity.refresh(request.cookies[REFRESH_COOKIE]);
        setRefreshCookie(request, reply, signedIn);
        return authBody(signedIn);
      } catch (err) {
        clearSessionCookies(reply);
        throw err;
      }
    },
  });

  r.post('/api/auth/logout', {
    schema: {
      tags: ['identity'],
      summary:
        "End this session: the refresh cookie's (and the bearer token's, if sent) access tokens stop working and its real-time connections close",
      response: { 204: z.null() },
    },
    handler: async (request, reply) => {
      const bearer = request.headers.authorization?.startsWith('Bearer ')
        ? request.headers.authorization.slice(7).trim()
        : undefined;
      await identity.logout(request.cookies[REFRESH_COOKIE], bearer);
      clearSessionCookies(reply);
      return reply.code(204).send(null);
    },
  });

  r.post('/api/auth/guest', {
    schema: {
      tags: ['identity'],
      summary: 'Start an anonymous guest session (browse and watch free rooms)',
      response: { 200: AuthResponse, ...errors },
    },
    handler: async () => authBody(await identity.guest()),
  });

  r.get('/api/me', {
    preHandler: guard.session,
    schema: { tags: ['identity'], summary: 'The signed-in account', response: { 200: User, ...errors } },
    handler: async (request) => {
      const s = sessionOf(request);
      if (s.isGuest) {
        return {
          id: s.userId,
          email: null,
          displayName: s.displayName,
          handle: null,
          role: s.role,
          language: s.language,
          createdAt: '',
        };
      }
      return identity.getUser(s.userId);
    },
  });

  r.patch('/api/me', {
    preHandler: guard.account,
    schema: {
      tags: ['identity'],
      summary: 'Change display name, preferred language or handle (409 handle_taken)',
      body: UpdateMeRequest,
      response: { 200: User, ...errors },
    },
    handler: async (request) => identity.updateMe(sessionOf(request), request.body),
  });

  r.patch('/api/admin/users/:id', {
    onRequest: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'Grant an account a role (studio, moderator, admin, …) or assign a streamer to a studio',
      params: z.strictObject({ id: UserId }),
      body: AdminUpdateUserRequest,
      response: { 200: User, ...errors },
    },
    handler: async (request) =>
      identity.adminUpdate(sessionOf(request), request.params.id, request.body, { requestId: request.id }),
  });
}
