import { conflict, type MemoryRateLimiter, rateLimited } from '@fusionflow/kit';
import { ErrorBody, ErrorCode, MEDIA_REPORT_MAX_BYTES, MediaReport, RoomParams } from '@fusionflow/protocol';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/http-app.js';
import { type AuthGuard, sessionOf } from '../identity/auth-guard.js';
import type { RoomService } from '../rooms/room-service.js';
import type { MediaReportMetrics } from './media-report-metrics.js';

/** A session sends two reports (when it plays, when it ends); this leaves room for reloads and several tabs. */
export const MEDIA_REPORTS_PER_MINUTE = 20;

/**
 * POST /api/rooms/:id/media-reports: a client's summary of one call or watch session's media, counted in the
 * media-quality metrics. Any session (guests too: they join calls and watch), at most MEDIA_REPORTS_PER_MINUTE per
 * user, the body at most MEDIA_REPORT_MAX_BYTES; who calls and how often is checked before the body is read.
 */
export function registerMediaReportRoutes(
  app: HttpApp,
  o: { guard: AuthGuard; rooms: RoomService; metrics: MediaReportMetrics; limiter: MemoryRateLimiter },
): void {
  const limit = async (request: FastifyRequest) => {
    const hit = o.limiter.hitSync(sessionOf(request).userId);
    if (!hit.allowed) throw rateLimited(hit.retryAfterSeconds, 'too many media reports; one per session is enough');
  };
  app.withTypeProvider<ZodTypeProvider>().post('/api/rooms/:id/media-reports', {
    onRequest: [o.guard.session, limit],
    bodyLimit: MEDIA_REPORT_MAX_BYTES,
    schema: {
      tags: ['media'],
      summary: 'Report how a call or watch session went (join time, ICE path and failures, freezes) for the metrics',
      params: RoomParams,
      body: MediaReport,
      response: {
        204: z.null(),
        400: ErrorBody,
        401: ErrorBody,
        404: ErrorBody,
        409: ErrorBody,
        413: ErrorBody,
        429: ErrorBody,
      },
    },
    handler: async (request, reply) => {
      const room = await o.rooms.get(request.params.id);
      if ((room.kind === 'call') !== (request.body.kind === 'call')) {
        throw conflict(`a ${room.kind} room has no ${request.body.kind} sessions`, ErrorCode.WrongRoomKind);
      }
      o.metrics.record(request.body);
      return reply.code(204).send(null);
    },
  });
}
