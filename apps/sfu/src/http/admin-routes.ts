import { unauthorized, verifyInternalRequest } from '@fusionflow/kit';
import type { SfuRoomsResponse } from '@fusionflow/protocol';
import type { FastifyRequest } from 'fastify';
import type { RoomManager } from '../room/room-manager.js';
import type { SfuHttpApp } from './http-app.js';

/**
 * The admin API the control plane calls (signed with the shared secret, like events): list rooms
 * and sessions, close a room, kick a session. Never exposed through the control plane or nginx.
 */
export function registerAdminRoutes(app: SfuHttpApp, o: { rooms: RoomManager; secret: string }): void {
  const check = async (request: FastifyRequest) => {
    const path = request.url.split('?')[0]!;
    const body = typeof request.body === 'string' ? request.body : request.body ? JSON.stringify(request.body) : '';
    const result = verifyInternalRequest(o.secret, { method: request.method, path, body, headers: request.headers });
    if (result !== 'ok') throw unauthorized(`internal request signature ${result}`);
  };

  app.get(
    '/api/admin/rooms',
    { preHandler: check },
    async (): Promise<SfuRoomsResponse> => ({ rooms: o.rooms.list() }),
  );

  app.delete<{ Params: { room: string } }>('/api/admin/rooms/:room', { preHandler: check }, async (request, reply) => {
    const closed = await o.rooms.closeRoom(request.params.room, 'room_closed');
    return reply.code(closed ? 200 : 404).send({ closed });
  });

  app.delete<{ Params: { id: string } }>('/api/admin/sessions/:id', { preHandler: check }, async (request, reply) => {
    const kicked = await o.rooms.kick(request.params.id);
    return reply.code(kicked ? 200 : 404).send({ kicked });
  });
}
