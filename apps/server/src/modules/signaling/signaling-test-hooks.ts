import { AppError, type Logger } from '@fusionflow/kit';
import { DropConnectionRequest, DropMediaStateRequest, ErrorCode } from '@fusionflow/protocol';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/http-app.js';
import type { RealtimeGateway } from '../realtime/realtime-gateway.js';
import type { RoomStateStore } from '../realtime/room-state-store.js';
import type { MediaStateDrops } from './media-state-drops.js';

/**
 * TEST ONLY, registered when `TEST_HOOKS=true` (never in production): switches that make the
 * failures browser scenarios need, e.g. a lost `media-state` message.
 */
export function registerSignalingTestHooks(
  app: HttpApp,
  o: { drops: MediaStateDrops; store: RoomStateStore; gateway: RealtimeGateway; logger: Logger },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.post('/api/test-hooks/drop-media-state', {
    schema: {
      tags: ['test hooks'],
      summary: 'TEST ONLY: drop the next media-state message(s) the server would deliver to a peer',
      body: DropMediaStateRequest,
    },
    handler: async (request, reply) => {
      o.drops.drop(request.body.roomId, request.body.peerId, request.body.count);
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
      const { roomId, peerId } = request.body;
      const member = await o.store.get(roomId, peerId);
      if (!member || !o.gateway.dropTransport(member.connection)) {
        throw new AppError(ErrorCode.PeerNotFound, 'no such peer connected to this process');
      }
      o.logger.warn({ roomId, peerId }, 'test hook: connection dropped');
      return reply.code(204).send();
    },
  });
}
