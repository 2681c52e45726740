import { CallSessionsResponse, ErrorBody, UserId } from '@fusionflow/protocol';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/http-app.js';
import { type AuthGuard, sessionOf } from '../identity/auth-guard.js';
import type { CallBilling } from './call-billing.js';

/** The record of private calls: every session with its minutes, for the payer, the streamer and admins. */
export function registerCallSessionRoutes(app: HttpApp, o: { billing: CallBilling; guard: AuthGuard }): void {
  app.withTypeProvider<ZodTypeProvider>().get('/api/call-sessions', {
    preHandler: o.guard.account,
    schema: {
      tags: ['wallet'],
      summary: 'Private calls I paid for or earned from (admins: ?userId=), with every minute charged',
      querystring: z.strictObject({ userId: UserId.optional() }),
      response: { 200: CallSessionsResponse, 401: ErrorBody, 403: ErrorBody },
    },
    handler: async (request) => {
      const s = sessionOf(request);
      const userId = request.query.userId && s.role === 'admin' ? request.query.userId : s.userId;
      return { sessions: await o.billing.sessions(userId) };
    },
  });
}
