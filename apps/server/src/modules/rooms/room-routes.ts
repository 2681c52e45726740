import {
  BroadcastSummary,
  CreateRoomRequest,
  ErrorBody,
  ListRoomsQuery,
  ListRoomsResponse,
  Room,
  RoomParams,
  UpdateRoomRequest,
} from '@fusionflow/protocol';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/http-app.js';
import { type AuthGuard, sessionOf } from '../identity/auth-guard.js';
import type { RoomService } from './room-service.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };

export function registerRoomRoutes(app: HttpApp, rooms: RoomService, guard: AuthGuard): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/api/rooms', {
    preHandler: guard.account,
    schema: {
      tags: ['rooms'],
      summary: 'Create a room (live broadcast or call)',
      body: CreateRoomRequest,
      response: { 201: Room, ...errors },
    },
    handler: async (request, reply) => reply.code(201).send(await rooms.create(sessionOf(request), request.body)),
  });

  r.get('/api/rooms', {
    schema: {
      tags: ['rooms'],
      summary: 'List rooms (newest first); status=live for the rooms that are live now',
      querystring: ListRoomsQuery,
      response: { 200: ListRoomsResponse, ...errors },
    },
    handler: async (request) => rooms.list(request.query),
  });

  r.get('/api/rooms/:id', {
    schema: { tags: ['rooms'], summary: 'One room', params: RoomParams, response: { 200: Room, ...errors } },
    handler: async (request) => rooms.get(request.params.id),
  });

  r.patch('/api/rooms/:id', {
    preHandler: guard.account,
    schema: {
      tags: ['rooms'],
      summary: 'Change title or prices, or go live (owner or admin)',
      params: RoomParams,
      body: UpdateRoomRequest,
      response: { 200: Room, ...errors },
    },
    handler: async (request) => rooms.update(sessionOf(request), request.params.id, request.body),
  });

  r.post('/api/rooms/:id/end', {
    preHandler: guard.account,
    schema: {
      tags: ['rooms'],
      summary: 'End the room (owner, moderator or admin)',
      params: RoomParams,
      response: { 200: Room, ...errors },
    },
    handler: async (request) => rooms.end(sessionOf(request), request.params.id, { requestId: request.id }),
  });

  r.get('/api/rooms/:id/summary', {
    preHandler: guard.account,
    schema: {
      tags: ['rooms'],
      summary: "A live room's broadcast in numbers: duration, viewers, earnings, chat (owner or admin)",
      params: RoomParams,
      response: { 200: BroadcastSummary, ...errors },
    },
    handler: async (request) => rooms.summary(sessionOf(request), request.params.id),
  });
}
