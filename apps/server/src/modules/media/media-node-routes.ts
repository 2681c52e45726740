import { AppError } from '@fusionflow/kit';
import {
  ErrorBody,
  ErrorCode,
  MAX_NODE_REPORT_BYTES,
  MEDIA_NODE_REPORT_PATH,
  MediaAdminView,
  SfuNodeReport,
} from '@fusionflow/protocol';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/http-app.js';
import { signedInternalJson } from '../../http/internal-request.js';
import type { AuthGuard } from '../identity/auth-guard.js';
import type { Placement } from './placement.js';

const errors = { 401: ErrorBody, 403: ErrorBody };

/**
 * The media directory's HTTP side: SFU nodes report themselves (`POST /api/internal/media/nodes`,
 * signed with the shared internal secret like the SFU's events: a bad, forged or stale signature
 * is 401; a body that is not a report, or is too big, a coded 400/413), and admins see the nodes,
 * origins and relays (`GET /api/admin/media`).
 */
export async function registerMediaNodeRoutes(
  app: HttpApp,
  o: { placement: Placement; guard: AuthGuard; secret: string; staticUrl: () => string | undefined },
): Promise<void> {
  // Raw body: the signature covers exactly the bytes that were signed.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      'application/json',
      { parseAs: 'string', bodyLimit: MAX_NODE_REPORT_BYTES },
      (_req, body, done) => done(null, body),
    );
    scope.post(
      MEDIA_NODE_REPORT_PATH,
      { schema: { hide: true }, config: { rateLimit: false } },
      async (request, reply) => {
        const json = signedInternalJson(o.secret, request);
        const report = SfuNodeReport.safeParse(json);
        if (!report.success) {
          throw new AppError(ErrorCode.ValidationFailed, 'not a node report', {
            issues: report.error.issues.slice(0, 10).map((i) => ({ path: i.path.join('.'), message: i.message })),
          });
        }
        await o.placement.noteReport(report.data);
        return reply.code(204).send();
      },
    );
  });

  app.withTypeProvider<ZodTypeProvider>().get('/api/admin/media', {
    onRequest: o.guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'SFU nodes (load, draining, health, rooms), the origin node of each live room, and relays',
      response: { 200: MediaAdminView, ...errors },
    },
    handler: async (_request, reply) => {
      reply.header('cache-control', 'no-store');
      return o.placement.view(o.staticUrl());
    },
  });
}
