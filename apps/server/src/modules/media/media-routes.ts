import { inSpan } from '@fusionflow/kit';
import { ErrorBody, GrantRequest, GrantResponse, IceServersResponse, RoomParams } from '@fusionflow/protocol';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/http-app.js';
import { publicOriginOf } from '../../http/public-origin.js';
import { type AuthGuard, sessionOf } from '../identity/auth-guard.js';
import type { GrantService } from './grant-service.js';
import type { IceServerIssuer } from './ice-server-issuer.js';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  429: ErrorBody,
  503: ErrorBody,
};

export function registerMediaRoutes(
  app: HttpApp,
  o: { grants: GrantService; ice: IceServerIssuer; guard: AuthGuard; publicUrl: string | undefined },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const originOf = (request: FastifyRequest) => publicOriginOf(request, o.publicUrl);

  r.post('/api/rooms/:id/grants', {
    preHandler: o.guard.session,
    schema: {
      tags: ['media'],
      summary: 'A signed grant to publish to (owner) or watch a live room through the SFU',
      params: RoomParams,
      body: GrantRequest,
      response: { 200: GrantResponse, ...errors },
    },
    // Its own span, so a media session's trace shows the grant it started with (see docs/operations.md).
    handler: async (request) =>
      inSpan('grant.issue', { 'ff.room': request.params.id, 'ff.role': request.body.role }, () =>
        o.grants.issue(sessionOf(request), request.params.id, request.body.role, originOf(request)),
      ),
  });

  r.get('/.well-known/jwks.json', {
    schema: { tags: ['media'], summary: 'Public keys that verify grants (EdDSA / Ed25519)' },
    handler: async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      return o.grants.jwks();
    },
  });

  r.get('/api/ice-servers', {
    preHandler: o.guard.session,
    schema: {
      tags: ['media'],
      summary:
        'STUN servers, and TURN servers with time-limited credentials for signed-in accounts (guests get STUN only)',
      response: { 200: IceServersResponse, ...errors },
    },
    handler: async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return o.ice.issue(sessionOf(request));
    },
  });
}
