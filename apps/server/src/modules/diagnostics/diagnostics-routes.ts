import { DiagnosticsReport, ErrorBody } from '@fusionflow/protocol';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/http-app.js';
import type { AuthGuard } from '../identity/auth-guard.js';
import type { Doctor } from './doctor.js';

/** The doctor's report for admins (the Admin → Diagnostics page). */
export function registerDiagnosticsRoutes(app: HttpApp, o: { doctor: Doctor; guard: AuthGuard }): void {
  app.withTypeProvider<ZodTypeProvider>().get('/api/admin/diagnostics', {
    onRequest: o.guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary:
        'Check every dependency (database, Redis, SFU and its ICE addresses, TURN allocations, translation, clock, TLS, ledger) and say what to fix',
      querystring: z.strictObject({ fresh: z.enum(['true', 'false']).optional() }),
      response: { 200: DiagnosticsReport, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody },
    },
    handler: async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return o.doctor.report({ fresh: request.query.fresh === 'true' });
    },
  });
}
