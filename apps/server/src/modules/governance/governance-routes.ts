import { AuditListResponse, AuditQuery, ErrorBody } from '@fusionflow/protocol';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/http-app.js';
import type { AuthGuard } from '../identity/auth-guard.js';
import type { AuditLog } from './audit-log.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };

export interface GovernanceRoutesOptions {
  guard: AuthGuard;
  audit: AuditLog;
}

/** The governance API: the audit trail (admins). Schemas and guards only; the services decide. */
export function registerGovernanceRoutes(app: HttpApp, o: GovernanceRoutesOptions): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { guard, audit } = o;

  r.get('/api/admin/audit', {
    preHandler: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'The audit trail, newest first, filtered by actor, target, room, action and time',
      querystring: AuditQuery,
      response: { 200: AuditListResponse, ...errors },
    },
    handler: async (request) => audit.list(request.query),
  });

  r.get('/api/admin/audit/export', {
    preHandler: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'The filtered audit trail as CSV (text/csv), newest first',
      querystring: AuditQuery.omit({ limit: true, cursor: true }),
      response: errors,
    },
    handler: async (request, reply) => {
      const body = await audit.csv(request.query);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="audit.csv"')
        .header('cache-control', 'no-store')
        .send(body as never);
    },
  });
}
