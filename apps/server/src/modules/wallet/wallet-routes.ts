import { AppError } from '@fusionflow/kit';
import {
  EarningsQuery,
  EarningsResponse,
  EntitlementsResponse,
  ErrorBody,
  ErrorCode,
  IDEMPOTENCY_HEADER,
  IdempotencyKey,
  LedgerQuery,
  LedgerResponse,
  PAYMENT_SIGNATURE_HEADER,
  Payout,
  PayoutDecision,
  PayoutRequest,
  PayoutsQuery,
  PayoutsResponse,
  PurchaseRequest,
  PurchaseResponse,
  RoomParams,
  StudioEarningsResponse,
  TicketRequest,
  TicketResponse,
  TipRequest,
  TipResponse,
  TokenPacksResponse,
  text,
  WalletHistoryQuery,
  WalletHistoryResponse,
  WalletResponse,
} from '@fusionflow/protocol';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/http-app.js';
import { type AuthGuard, sessionOf } from '../identity/auth-guard.js';
import type { EarningsService } from './earnings-service.js';
import type { PayoutService } from './payout-service.js';
import type { RequestContext, WalletService } from './wallet-service.js';

const errors = {
  400: ErrorBody,
  401: ErrorBody,
  402: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  429: ErrorBody,
};
const idempotencyHeaders = z.looseObject({ [IDEMPOTENCY_HEADER]: text().optional() });

/** The request's session, request id and Idempotency-Key (required: money never moves without one). */
function contextOf(request: FastifyRequest): RequestContext {
  const raw = request.headers[IDEMPOTENCY_HEADER];
  if (typeof raw !== 'string') {
    throw new AppError(
      ErrorCode.IdempotencyKeyRequired,
      `send an ${IDEMPOTENCY_HEADER} header (a fresh random id per operation)`,
    );
  }
  const key = IdempotencyKey.safeParse(raw);
  if (!key.success) throw new AppError(ErrorCode.IdempotencyKeyRequired, key.error.issues[0]!.message);
  return { session: sessionOf(request), requestId: request.id, idempotencyKey: key.data };
}

export function registerWalletRoutes(
  app: HttpApp,
  o: { wallet: WalletService; payouts: PayoutService; earnings: EarningsService; guard: AuthGuard },
): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { wallet, payouts, earnings, guard } = o;

  r.get('/api/wallet/packs', {
    schema: {
      tags: ['wallet'],
      summary: 'Token packs on sale and the payment providers enabled',
      response: { 200: TokenPacksResponse },
    },
    handler: async () => wallet.packs(),
  });

  r.get('/api/wallet', {
    preHandler: guard.account,
    schema: { tags: ['wallet'], summary: 'Wallet balance', response: { 200: WalletResponse, ...errors } },
    handler: async (request) => ({ balance: await wallet.balance(sessionOf(request).userId) }),
  });

  r.get('/api/wallet/history', {
    preHandler: guard.account,
    schema: {
      tags: ['wallet'],
      summary: 'Wallet movements, newest first, filterable by kind and time',
      querystring: WalletHistoryQuery,
      response: { 200: WalletHistoryResponse, ...errors },
    },
    handler: async (request) => wallet.history(sessionOf(request).userId, request.query),
  });

  r.get('/api/wallet/entitlements', {
    preHandler: guard.account,
    schema: { tags: ['wallet'], summary: 'Tickets held', response: { 200: EntitlementsResponse, ...errors } },
    handler: async (request) => ({ entitlements: await wallet.entitlements(sessionOf(request).userId) }),
  });

  r.post('/api/wallet/purchases', {
    preHandler: guard.account,
    schema: {
      tags: ['wallet'],
      summary: 'Buy a token pack (Idempotency-Key required)',
      headers: idempotencyHeaders,
      body: PurchaseRequest,
      response: { 201: PurchaseResponse, ...errors },
    },
    handler: async (request, reply) => reply.code(201).send(await wallet.purchase(contextOf(request), request.body)),
  });

  r.post('/api/rooms/:id/tips', {
    preHandler: guard.account,
    schema: {
      tags: ['wallet'],
      summary: "Tip the room's streamer (Idempotency-Key required)",
      headers: idempotencyHeaders,
      params: RoomParams,
      body: TipRequest,
      response: { 201: TipResponse, ...errors },
    },
    handler: async (request, reply) =>
      reply.code(201).send(await wallet.tip(contextOf(request), request.params.id, request.body)),
  });

  r.post('/api/rooms/:id/tickets', {
    preHandler: guard.account,
    schema: {
      tags: ['wallet'],
      summary: 'Buy a ticket for a paid live room (Idempotency-Key required)',
      headers: idempotencyHeaders,
      params: RoomParams,
      body: TicketRequest,
      response: { 201: TicketResponse, ...errors },
    },
    handler: async (request, reply) =>
      reply.code(201).send(await wallet.buyTicket(contextOf(request), request.params.id, request.body)),
  });

  r.get('/api/earnings', {
    preHandler: guard.roles('streamer', 'studio', 'admin'),
    schema: {
      tags: ['wallet'],
      summary: 'Earnings by day and source, available balance, pending payouts',
      querystring: EarningsQuery,
      response: { 200: EarningsResponse, ...errors },
    },
    handler: async (request) => earnings.earnings(sessionOf(request).userId, request.query.days),
  });

  r.get('/api/studio/earnings', {
    preHandler: guard.roles('studio'),
    schema: {
      tags: ['wallet'],
      summary: "The studio's streamers' earnings and the studio's share",
      querystring: EarningsQuery,
      response: { 200: StudioEarningsResponse, ...errors },
    },
    handler: async (request) => earnings.studio(sessionOf(request).userId, request.query.days),
  });

  r.post('/api/payouts', {
    preHandler: guard.account,
    schema: {
      tags: ['wallet'],
      summary: 'Request a payout of earnings (Idempotency-Key required)',
      headers: idempotencyHeaders,
      body: PayoutRequest,
      response: { 201: Payout, ...errors },
    },
    handler: async (request, reply) => reply.code(201).send(await payouts.request(contextOf(request), request.body)),
  });

  r.get('/api/payouts', {
    preHandler: guard.account,
    schema: { tags: ['wallet'], summary: 'My payouts', response: { 200: PayoutsResponse, ...errors } },
    handler: async (request) => ({ payouts: await payouts.list({ userId: sessionOf(request).userId }) }),
  });

  r.get('/api/admin/payouts', {
    onRequest: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'Payout queue',
      querystring: PayoutsQuery,
      response: { 200: PayoutsResponse, ...errors },
    },
    handler: async (request) => ({ payouts: await payouts.list({ status: request.query.status }) }),
  });

  r.post('/api/admin/payouts/:id/decision', {
    onRequest: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'Approve or reject a payout',
      params: z.strictObject({ id: text().min(1).max(64) }),
      body: PayoutDecision,
      response: { 200: Payout, ...errors },
    },
    handler: async (request) =>
      payouts.decide(
        { session: sessionOf(request), requestId: request.id, idempotencyKey: `decision-${request.params.id}` },
        request.params.id,
        request.body,
      ),
  });

  r.get('/api/admin/ledger', {
    onRequest: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'Every ledger transaction with its entries, actor and request id',
      querystring: LedgerQuery,
      response: { 200: LedgerResponse, ...errors },
    },
    handler: async (request) => earnings.ledgerView(request.query),
  });

  // The payment provider signs the raw body, so this route reads it unparsed (in its own scope).
  app.register(async (scope) => {
    scope.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.post('/api/payments/webhook', {
      schema: { tags: ['wallet'], summary: 'Payment provider webhook (signed: x-ff-signature: t=…,v1=…)' },
      handler: async (request) =>
        wallet.handlePaymentWebhook(
          request.body as Buffer,
          request.headers[PAYMENT_SIGNATURE_HEADER] as string | undefined,
        ),
    });
  });
}
