import { Readable } from 'node:stream';
import {
  ErrorBody,
  ListReplaysQuery,
  ListReplaysResponse,
  Replay,
  ReplayChat,
  ReplayChatQuery,
  ReplayMediaParams,
  ReplayMediaQuery,
  ReplayParams,
  ReplayPlayback,
  RoomParams,
  UpdateReplayRequest,
} from '@fusionflow/protocol';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/http-app.js';
import { type AuthGuard, sessionOf } from '../identity/auth-guard.js';
import { parseByteRange } from './byte-range.js';
import type { ReplayService } from './replay-service.js';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  402: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  429: ErrorBody,
};

export interface ReplayRoutesOptions {
  replays: ReplayService;
  guard: AuthGuard;
}

/** Replays of broadcasts (see docs/protocol.md). */
export function registerReplayRoutes(app: HttpApp, { replays, guard }: ReplayRoutesOptions): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/api/rooms/:id/replay', {
    schema: {
      tags: ['replays'],
      summary: "The room's latest replay (any status)",
      params: RoomParams,
      response: { 200: Replay, ...errors },
    },
    handler: async (request) => replays.latestForRoom(request.params.id),
  });

  r.get('/api/replays', {
    preHandler: guard.optional,
    schema: {
      tags: ['replays'],
      summary: 'Ready replays, newest first (owner=: one streamer’s; their own hidden ones too, for them)',
      querystring: ListReplaysQuery,
      response: { 200: ListReplaysResponse, ...errors },
    },
    handler: async (request) => ({ replays: await replays.list(request.session, request.query) }),
  });

  r.get('/api/replays/:id', {
    preHandler: guard.optional,
    schema: {
      tags: ['replays'],
      summary: 'One replay (hidden ones for their owner and admins only)',
      params: ReplayParams,
      response: { 200: Replay, ...errors },
    },
    handler: async (request) => replays.get(request.session, request.params.id),
  });

  r.patch('/api/replays/:id', {
    preHandler: guard.account,
    schema: {
      tags: ['replays'],
      summary: 'Rename or hide a replay (owner or admin)',
      params: ReplayParams,
      body: UpdateReplayRequest,
      response: { 200: Replay, ...errors },
    },
    handler: async (request) => replays.update(sessionOf(request), request.params.id, request.body),
  });

  r.delete('/api/replays/:id', {
    preHandler: guard.account,
    schema: {
      tags: ['replays'],
      summary: 'Delete a replay and its files (owner or admin)',
      params: ReplayParams,
      response: { 204: z.null(), ...errors },
    },
    handler: async (request, reply) => {
      await replays.remove(sessionOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  });

  r.post('/api/replays/:id/playback', {
    preHandler: guard.optional,
    schema: {
      tags: ['replays'],
      summary: 'A short-lived URL of the replay’s file (a paid broadcast’s replay needs its ticket)',
      params: ReplayParams,
      response: { 200: ReplayPlayback, ...errors },
    },
    handler: async (request) => replays.playback(request.session, request.params.id),
  });

  r.get('/api/replays/:id/chat', {
    preHandler: guard.optional,
    schema: {
      tags: ['replays'],
      summary: 'The broadcast’s chat with each message’s offset, in the reader’s language',
      params: ReplayParams,
      querystring: ReplayChatQuery,
      response: { 200: ReplayChat, ...errors },
    },
    handler: async (request) => replays.chat(request.session, request.params.id, request.query.lang),
  });

  // A <video> element fetches this: the permission is the URL's token, not an Authorization header.
  r.get('/api/replays/:id/media/:name', {
    schema: {
      tags: ['replays'],
      summary: 'A local replay file (HTTP Range); the URL comes from playback',
      params: ReplayMediaParams,
      querystring: ReplayMediaQuery,
    },
    handler: async (request, reply) => {
      const file = await replays.media(request.params.id, request.params.name, request.query.token);
      const range = parseByteRange(request.headers.range, file.bytes);
      reply
        .header('accept-ranges', 'bytes')
        .header('cache-control', 'private, max-age=600')
        .header('content-type', file.contentType);
      const body = async (o?: { start: number; end: number }) => {
        // HEAD: the headers only; an empty stream keeps the Content-Length set here.
        if (request.method !== 'HEAD') return file.handle.createReadStream(o);
        await file.handle.close();
        return Readable.from([]);
      };
      if (range.kind === 'unsatisfiable') {
        await file.handle.close();
        return reply.code(416).header('content-range', `bytes */${file.bytes}`).send();
      }
      if (range.kind === 'whole') {
        return reply
          .code(200)
          .header('content-length', file.bytes)
          .send(await body());
      }
      return reply
        .code(206)
        .header('content-range', `bytes ${range.start}-${range.end}/${file.bytes}`)
        .header('content-length', range.end - range.start + 1)
        .send(await body({ start: range.start, end: range.end }));
    },
  });
}
