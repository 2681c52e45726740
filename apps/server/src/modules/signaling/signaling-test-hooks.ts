import { AppError } from '@fusionflow/kit';
import { DropConnectionRequest, DropMediaStateRequest, ErrorCode } from '@fusionflow/protocol';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/http-app.js';
import type { SignalingService } from './signaling-service.js';

/**
 * TEST ONLY, registered when `TEST_HOOKS=true` (never in production): switches that make the
 * failures browser scenarios need, e.g. a lost `media-state` message.
 */
export function registerSignalingTestHooks(app: HttpApp, signaling: SignalingService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post('/api/test-hooks/drop-media-state', {
    schema: {
      tags: ['test hooks'],
      summary: 'TEST ONLY: drop the next media-state message(s) the server would deliver to a peer',
      body: DropMediaStateRequest,
    },
    handler: async (request, reply) => {
      signaling.dropNextMediaState(request.body.roomId, request.body.peerId, request.body.count);
      return reply.code(204).send();
    },
  });
  r.post('/api/test-hooks/drop-connection', {
    schema: {
      tags: ['test hooks'],
      summary: 'TEST ONLY: cut the transport of the connection holding a peer’s slot, as a network failure would',
      body: DropConnectionRequest,
    },
    handler: async (request, reply) => {
      if (!(await signaling.dropConnection(request.body.roomId, request.body.peerId))) {
        throw new AppError(ErrorCode.PeerNotFound, 'no such peer connected to this process');
      }
      return reply.code(204).send();
    },
  });
}
