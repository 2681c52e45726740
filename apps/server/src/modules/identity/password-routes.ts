import {
  AdminPasswordResetResponse,
  AuthOptionsResponse,
  ChangePasswordRequest,
  ErrorBody,
  PasswordResetConfirm,
  PasswordResetRequest,
  UserId,
} from '@fusionflow/protocol';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/http-app.js';
import { type AuthGuard, sessionOf } from './auth-guard.js';
import type { IdentityService } from './identity-service.js';
import type { PasswordResets } from './password-resets.js';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
};

export interface PasswordRoutesOptions {
  identity: IdentityService;
  resets: PasswordResets;
  guard: AuthGuard;
  /**
   * The origin reset links point at: PUBLIC_URL, never the request's Host header (a forged Host
   * would send the victim's token to the forger). Undefined: emailed links cannot be made.
   */
  linkOrigin(request: FastifyRequest): string | undefined;
}

/** Change password, "forgot password" by email, and admins' reset links. */
export function registerPasswordRoutes(app: HttpApp, o: PasswordRoutesOptions): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/api/auth/options', {
    schema: {
      tags: ['identity'],
      summary: 'What sign-in offers: a password reset by email only when the server sends email (SMTP_URL)',
      response: { 200: AuthOptionsResponse },
    },
    handler: async (request) => ({ passwordResetByEmail: o.resets.byEmail && o.linkOrigin(request) !== undefined }),
  });

  r.post('/api/auth/password-reset', {
    schema: {
      tags: ['identity'],
      summary: 'Forgot password: email a single-use reset link (the same answer whether or not the account exists)',
      body: PasswordResetRequest,
      response: { 202: z.object({}), ...errors },
    },
    handler: async (request, reply) => {
      const origin = o.linkOrigin(request);
      if (!origin || !o.resets.byEmail) {
        return reply.code(503).send({
          error: { code: 'unavailable', message: 'this server sends no email; ask an admin to reset your password' },
        });
      }
      await o.resets.request(request.body.email, request.ip, origin);
      return reply.code(202).send({});
    },
  });

  r.post('/api/auth/password-reset/confirm', {
    schema: {
      tags: ['identity'],
      summary: 'Set a new password with the token from a reset link (once; every session of the account ends)',
      body: PasswordResetConfirm,
      response: { 204: z.null(), ...errors },
    },
    handler: async (request, reply) => {
      await o.resets.reset(request.body);
      return reply.code(204).send(null);
    },
  });

  r.post('/api/me/password', {
    preHandler: o.guard.account,
    schema: {
      tags: ['identity'],
      summary: 'Change your password (the current one is required); your other sessions end',
      body: ChangePasswordRequest,
      response: { 204: z.null(), ...errors },
    },
    handler: async (request, reply) => {
      await o.identity.changePassword(sessionOf(request), request.body, request.ip);
      return reply.code(204).send(null);
    },
  });

  r.post('/api/admin/users/:id/password-reset', {
    preHandler: o.guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'Make a single-use password-reset link for an account, to hand over (servers without email)',
      params: z.strictObject({ id: UserId }),
      response: { 201: AdminPasswordResetResponse, ...errors },
    },
    handler: async (request, reply) => {
      // An admin is trusted with the origin the request names when no PUBLIC_URL is set.
      const origin = o.linkOrigin(request) ?? `${request.protocol}://${request.host}`;
      return reply.code(201).send(await o.resets.adminLink(sessionOf(request), request.params.id, origin));
    },
  });
}
