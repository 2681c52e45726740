import { ErrorBody, Replay, RoomParams } from '@fusionflow/protocol';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/http-app.js';
import type { RecordingService } from './recording-service.js';

const errors = { 400: ErrorBody, 404: ErrorBody, 429: ErrorBody };

/** Replays of broadcasts (see docs/protocol.md). */
export function registerReplayRoutes(app: HttpApp, recordings: RecordingService): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get('/api/rooms/:id/replay', {
    schema: {
      tags: ['replays'],
      summary: "The room's latest replay (any status)",
      params: RoomParams,
      response: { 200: Replay, ...errors },
    },
    handler: async (request) => recordings.latestForRoom(request.params.id),
  });
}
