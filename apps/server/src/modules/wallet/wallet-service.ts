import { randomUUID } from 'node:crypto';
import {
  AppError,
  badRequest,
  conflict,
  Emitter,
  forbidden,
  type Logger,
  logListenerErrors,
  type MemoryRateLimiter,
  notFound,
  rateLimited,
  unauthorized,
} from '@fusionflow/kit';
import {
  asRoomId,
  asUserId,
  type Entitlement,
  ErrorCode,
  PaymentWebhookEvent,
  type Purchase,
  type PurchaseRequest,
  type PurchaseResponse,
  type RoomId,
  type TicketRequest,
  type TicketResponse,
  type Tip,
  type TipRequest,
  type TipResponse,
  type TokenPack,
  type TokenPacksResponse,
  type WalletHistoryQuery,
  type WalletHistoryResponse,
} from '@fusionflow/protocol';
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { Database, PurchasesTable } from '../../db/schema.js';
import type { Session } from '../identity/access-tokens.js';
import type { Ledger } from './ledger.js';
import { revenuePostings, type SplitPolicy, splitRevenue } from './revenue-split.js';
import type { WalletMetrics } from './wallet-metrics.js';
import { verifyWebhook } from './webhook-signature.js';

/** Who asked, for the audit trail: every money movement records its actor and request id. */
export interface RequestContext {
  session: Session;
  requestId: string;
  idempotencyKey: string;
}

export interface WalletServiceOptions {
  db: Kysely<Database>;
  ledger: Ledger;
  policy: SplitPolicy;
  packs: readonly TokenPack[];
  devProvider: boolean;
  webhookSecret: string | undefined;
  webhookToleranceSeconds: number;
  tipMaxTokens: number;
  tipLimiter: MemoryRateLimiter;
  /**
   * The room's chat rules (ban, mute, blocked words, length), asked before a tip moves money: a
   * banned user tips nothing into the room, and a tip's message says nothing the chat would refuse.
   */
  tipRules: {
    checkTip(room: { id: RoomId; ownerId: string }, session: Session, message: string | null): Promise<void>;
  };
  metrics: WalletMetrics;
  logger: Logger;
}

export interface WalletEvents {
  [event: string]: unknown;
  /** Once per tip that moved money (never for a replay); chat shows it. */
  tip: Tip;
}

function toPurchase(row: Selectable<PurchasesTable>): Purchase {
  return {
    id: row.id,
    packId: row.pack_id,
    tokens: row.tokens,
    priceCents: row.price_cents,
    currency: row.currency,
    provider: row.provider,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    completedAt: row.completed_at ? new Date(row.completed_at).toISOString() : null,
  };
}

const wallet = (ownerId: string) => ({ kind: 'wallet' as const, ownerId });

/**
 * Tokens in and out of a viewer's wallet: purchases (dev or webhook provider), tips and tickets.
 * Every operation is one ledger transaction keyed by the client's idempotency key.
 */
export class WalletService extends Emitter<WalletEvents> {
  constructor(private readonly o: WalletServiceOptions) {
    super(logListenerErrors(o.logger));
  }

  get providers(): ('dev' | 'webhook')[] {
    return [...(this.o.devProvider ? ['dev' as const] : []), ...(this.o.webhookSecret ? ['webhook' as const] : [])];
  }

  packs(): TokenPacksResponse {
    return {
      packs: [...this.o.packs],
      providers: this.providers,
      platformFeePercent: this.o.policy.platformFeePercent,
      studioSharePercent: this.o.policy.studioSharePercent,
    };
  }

  balance(userId: string): Promise<number> {
    return this.o.ledger.balance(wallet(userId));
  }

  async purchase(ctx: RequestContext, req: PurchaseRequest): Promise<PurchaseResponse> {
    const userId = ctx.session.userId;
    const refuse = (err: AppError) => this.#refuse('purchase', err);
    const pack = this.o.packs.find((p) => p.id === req.packId);
    if (!pack) throw refuse(notFound(`no token pack ${req.packId}`));
    if (pack.priceCents !== req.expectedPriceCents) {
      throw refuse(
        conflict(
          `the price of ${pack.id} changed to ${pack.priceCents}; confirm the new price`,
          ErrorCode.PriceChanged,
        ),
      );
    }
    const provider = req.provider ?? this.providers[0];
    if (!provider || !this.providers.includes(provider))
      throw refuse(badRequest('that payment provider is not enabled'));
    const request = { packId: pack.id, provider, expectedPriceCents: req.expectedPriceCents };
    const requestHash = JSON.stringify(request);
    const purchase = await this.o.ledger
      .run('purchase', async (tx) => {
        const inserted = await tx
          .insertInto('purchases')
          .values({
            id: randomUUID(),
            user_id: userId,
            pack_id: pack.id,
            tokens: pack.tokens,
            price_cents: pack.priceCents,
            currency: pack.currency,
            provider,
            status: 'pending',
            idempotency_key: `purchase:${userId}:${ctx.idempotencyKey}`,
            request_hash: requestHash,
          })
          .onConflict((oc) => oc.column('idempotency_key').doNothing())
          .returningAll()
          .executeTakeFirst();
        if (!inserted) {
          const first = await tx
            .selectFrom('purchases')
            .selectAll()
            .where('idempotency_key', '=', `purchase:${userId}:${ctx.idempotencyKey}`)
            .executeTakeFirstOrThrow();
          if (first.request_hash !== requestHash) {
            throw conflict('this idempotency key was used for a different request', ErrorCode.IdempotencyKeyConflict);
          }
          return first;
        }
        if (provider === 'dev') return this.#completePurchase(tx, inserted, ctx.requestId, userId);
        return inserted;
      })
      .catch((err) => {
        throw err instanceof AppError ? refuse(err) : err;
      });
    this.o.metrics.purchases.inc({ provider, status: purchase.status });
    return { purchase: toPurchase(purchase), balance: await this.balance(userId) };
  }

  /**
   * The payment provider's webhook: verify signature and freshness, then credit the purchase once
   * per event id. A delivery seen before answers `duplicate: true` and changes nothing.
   */
  async handlePaymentWebhook(
    rawBody: Buffer,
    signature: string | undefined,
  ): Promise<{ duplicate: boolean; status: string }> {
    const secret = this.o.webhookSecret;
    if (!secret) throw notFound('the webhook payment provider is not enabled');
    const check = verifyWebhook(secret, rawBody, signature, this.o.webhookToleranceSeconds);
    if (!check.ok) {
      throw this.#refuse(
        'webhook',
        check.reason === 'stale'
          ? unauthorized('webhook timestamp is too old or in the future', ErrorCode.WebhookStale)
          : unauthorized('webhook signature does not verify', ErrorCode.WebhookSignatureInvalid),
      );
    }
    let event: PaymentWebhookEvent;
    try {
      event = PaymentWebhookEvent.parse(JSON.parse(rawBody.toString('utf8')));
    } catch {
      throw this.#refuse('webhook', badRequest('webhook body is not a payment event'));
    }
    return this.o.ledger.run('purchase', async (tx) => {
      const fresh = await tx
        .insertInto('payment_events')
        .values({ id: event.id, type: event.type, purchase_id: event.data.purchaseId, payload: JSON.stringify(event) })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!fresh) return { duplicate: true, status: 'duplicate' };
      const purchase = await tx
        .selectFrom('purchases')
        .selectAll()
        .where('id', '=', event.data.purchaseId)
        .forUpdate()
        .executeTakeFirst();
      if (!purchase) throw badRequest(`unknown purchase ${event.data.purchaseId}`);
      if (purchase.price_cents !== event.data.amountCents || purchase.currency !== event.data.currency) {
        throw badRequest('the paid amount does not match the purchase');
      }
      if (purchase.status !== 'pending') return { duplicate: false, status: purchase.status };
      if (event.type === 'payment.failed') {
        await tx
          .updateTable('purchases')
          .set({ status: 'failed', completed_at: new Date() })
          .where('id', '=', purchase.id)
          .execute();
        this.o.metrics.purchases.inc({ provider: 'webhook', status: 'failed' });
        return { duplicate: false, status: 'failed' };
      }
      await this.#completePurchase(tx, purchase, `webhook:${event.id}`, null);
      this.o.metrics.purchases.inc({ provider: 'webhook', status: 'completed' });
      return { duplicate: false, status: 'completed' };
    });
  }

  async #completePurchase(
    tx: Transaction<Database>,
    purchase: Selectable<PurchasesTable>,
    requestId: string,
    actorId: string | null,
  ): Promise<Selectable<PurchasesTable>> {
    const posted = await this.o.ledger.post(tx, {
      kind: 'purchase',
      idempotencyKey: `purchase:${purchase.id}`,
      request: { purchaseId: purchase.id, tokens: purchase.tokens },
      actorId,
      requestId,
      reason: `${purchase.tokens} tokens bought (${purchase.pack_id}, ${purchase.provider})`,
      metadata: { purchaseId: purchase.id, provider: purchase.provider, priceCents: purchase.price_cents },
      postings: [
        { account: { kind: 'payment_clearing' }, amount: -purchase.tokens },
        { account: wallet(purchase.user_id), amount: purchase.tokens },
      ],
    });
    this.o.metrics.purchasedTokens.inc(purchase.tokens);
    return tx
      .updateTable('purchases')
      .set({ status: 'completed', transaction_id: posted.transactionId, completed_at: new Date() })
      .where('id', '=', purchase.id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }

  async tip(ctx: RequestContext, roomId: RoomId, req: TipRequest): Promise<TipResponse> {
    const from = ctx.session;
    const refuse = (err: AppError) => this.#refuse('tip', err);
    if (from.isGuest) throw refuse(forbidden('sign in to tip'));
    if (req.amount > this.o.tipMaxTokens) throw refuse(badRequest(`a tip is at most ${this.o.tipMaxTokens} tokens`));
    const limit = await this.o.tipLimiter.peek(from.userId);
    if (!limit.allowed) throw refuse(rateLimited(limit.retryAfterSeconds, 'too many tips; wait a moment'));
    const room = await this.#roomWithOwner(roomId);
    if (room.status === 'ended') throw refuse(conflict('the room has ended', ErrorCode.RoomEnded));
    if (room.owner_id === from.userId) throw refuse(badRequest('you cannot tip yourself'));
    const owner = { id: room.owner_id, display_name: room.owner_name, studio_id: room.studio_id };
    const split = splitRevenue(req.amount, this.o.policy, owner.studio_id !== null);
    const message = req.message && req.message.length > 0 ? req.message : null;
    await this.o.tipRules.checkTip({ id: roomId, ownerId: owner.id }, from, message).catch((err) => {
      throw err instanceof AppError ? refuse(err) : err;
    });
    // One statement, hence its own transaction: the hot path takes one round trip.
    const posted = await this.o.ledger
      .postAlone({
        kind: 'tip',
        idempotencyKey: `tip:${from.userId}:${ctx.idempotencyKey}`,
        request: { roomId, amount: req.amount, message },
        actorId: from.userId,
        requestId: ctx.requestId,
        roomId,
        reason: `tip of ${req.amount} to ${owner.display_name} in ${roomId}`,
        metadata: {
          fromUserId: from.userId,
          fromName: from.displayName,
          toUserId: owner.id,
          streamerId: owner.id,
          studioId: owner.studio_id,
          amount: req.amount,
          message,
          split,
        },
        postings: revenuePostings(from.userId, req.amount, split, owner.id, owner.studio_id),
      })
      .catch((err) => {
        throw err instanceof AppError ? refuse(err) : err;
      });
    const m = posted.metadata;
    const tip: Tip = {
      id: posted.transactionId,
      roomId: asRoomId(roomId),
      fromUserId: asUserId(String(m.fromUserId)),
      fromName: String(m.fromName),
      toUserId: asUserId(String(m.toUserId)),
      amount: Number(m.amount),
      message: (m.message as string | null) ?? null,
      createdAt: posted.createdAt.toISOString(),
    };
    if (!posted.replayed) {
      await this.o.tipLimiter.hit(from.userId);
      this.o.metrics.tips.inc();
      this.o.metrics.tipTokens.inc(req.amount);
      this.o.metrics.tokensSpent.inc({ kind: 'tip' }, req.amount);
      this.emit('tip', tip);
    }
    return { tip, balance: posted.balances.get(`wallet:${from.userId}`) ?? (await this.balance(from.userId)) };
  }

  /** Whether an ended room has a replay a ticket opens (ready, not hidden, not deleted). */
  async #hasReplay(roomId: RoomId): Promise<boolean> {
    const row = await this.o.db
      .selectFrom('recordings')
      .select('id')
      .where('room_id', '=', roomId)
      .where('status', '=', 'ready')
      .where('hidden', '=', false)
      .where('deleted_at', 'is', null)
      .executeTakeFirst();
    return row !== undefined;
  }

  async buyTicket(ctx: RequestContext, roomId: RoomId, req: TicketRequest): Promise<TicketResponse> {
    const buyer = ctx.session;
    const refuse = (err: AppError) => this.#refuse('ticket', err);
    if (buyer.isGuest) throw refuse(forbidden('sign in to buy a ticket'));
    const room = await this.#roomWithOwner(roomId);
    if (room.kind !== 'live') throw refuse(conflict('tickets are for live rooms', ErrorCode.WrongRoomKind));
    // After the broadcast the ticket is for its replay: sold while one is ready and visible.
    if (room.status === 'ended' && !(await this.#hasReplay(roomId))) {
      throw refuse(conflict('the room has ended and has no replay', ErrorCode.RoomEnded));
    }
    if (room.owner_id === buyer.userId) throw refuse(badRequest('you own this room; you need no ticket'));
    const owner = { id: room.owner_id, studio_id: room.studio_id };
    const entitlement = await this.o.ledger
      .run('ticket', async (tx) => {
        // The price as it is inside this transaction: a change since the buyer saw it refuses.
        const current = await tx
          .selectFrom('rooms')
          .select('ticket_price')
          .where('id', '=', roomId)
          .forShare()
          .executeTakeFirstOrThrow();
        const price = current.ticket_price ?? 0;
        if (price === 0) throw badRequest('this room is free; no ticket needed');
        if (price !== req.expectedPrice) {
          throw conflict(`the ticket price is now ${price}; confirm the new price`, ErrorCode.PriceChanged);
        }
        const split = splitRevenue(price, this.o.policy, owner.studio_id !== null);
        const posted = await this.o.ledger.post(tx, {
          kind: 'ticket',
          idempotencyKey: `ticket:${buyer.userId}:${ctx.idempotencyKey}`,
          request: { roomId, expectedPrice: req.expectedPrice },
          actorId: buyer.userId,
          requestId: ctx.requestId,
          roomId,
          reason: `ticket for ${roomId} (${price})`,
          metadata: { streamerId: owner.id, studioId: owner.studio_id, price, split },
          postings: revenuePostings(buyer.userId, price, split, owner.id, owner.studio_id),
        });
        if (posted.replayed) {
          return tx
            .selectFrom('entitlements')
            .selectAll()
            .where('transaction_id', '=', posted.transactionId)
            .executeTakeFirstOrThrow();
        }
        const row = await tx
          .insertInto('entitlements')
          .values({
            id: randomUUID(),
            user_id: buyer.userId,
            room_id: roomId,
            kind: 'ticket',
            price,
            transaction_id: posted.transactionId,
          })
          .onConflict((oc) => oc.constraint('entitlements_one_per_room').doNothing())
          .returningAll()
          .executeTakeFirst();
        // Already holding a ticket: throwing rolls the payment back with it.
        if (!row) throw conflict('you already have a ticket for this room', ErrorCode.AlreadyEntitled);
        this.o.metrics.tickets.inc();
        this.o.metrics.tokensSpent.inc({ kind: 'ticket' }, price);
        return row;
      })
      .catch((err) => {
        throw err instanceof AppError ? refuse(err) : err;
      });
    return {
      entitlement: {
        id: entitlement.id,
        roomId: asRoomId(entitlement.room_id),
        kind: entitlement.kind,
        price: entitlement.price,
        createdAt: entitlement.created_at.toISOString(),
      },
      balance: await this.balance(buyer.userId),
    };
  }

  /** The ticket that lets this user watch this room, if they hold one. */
  async ticketFor(userId: string, roomId: string): Promise<string | null> {
    const row = await this.o.db
      .selectFrom('entitlements')
      .select('id')
      .where('user_id', '=', userId)
      .where('room_id', '=', roomId)
      .where('kind', '=', 'ticket')
      .executeTakeFirst();
    return row?.id ?? null;
  }

  async entitlements(userId: string): Promise<Entitlement[]> {
    const rows = await this.o.db
      .selectFrom('entitlements')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      roomId: asRoomId(r.room_id),
      kind: r.kind,
      price: r.price,
      createdAt: r.created_at.toISOString(),
    }));
  }

  async history(userId: string, q: WalletHistoryQuery): Promise<WalletHistoryResponse> {
    let query = this.o.db
      .selectFrom('ledger_entries as e')
      .innerJoin('ledger_transactions as t', 't.id', 'e.transaction_id')
      .select(['e.id as entryId', 't.id', 't.kind', 'e.amount', 't.reason', 't.room_id', 't.created_at'])
      .where('e.account_id', '=', `wallet:${userId}`);
    if (q.kind) query = query.where('t.kind', '=', q.kind);
    if (q.from) query = query.where('t.created_at', '>=', new Date(q.from));
    if (q.to) query = query.where('t.created_at', '<', new Date(q.to));
    if (q.cursor) {
      const before = Number(q.cursor);
      if (!Number.isSafeInteger(before)) throw badRequest('cursor is not one this server gave out');
      query = query.where('e.id', '<', before);
    }
    const rows = await query
      .orderBy('e.id', 'desc')
      .limit(q.limit + 1)
      .execute();
    const page = rows.slice(0, q.limit);
    return {
      items: page.map((r) => ({
        transactionId: r.id,
        kind: r.kind,
        amount: Number(r.amount),
        reason: r.reason,
        roomId: r.room_id,
        createdAt: r.created_at.toISOString(),
      })),
      nextCursor: rows.length > q.limit ? String(page.at(-1)!.entryId) : null,
    };
  }

  /** The room and the owner a payment goes to, in one query. */
  async #roomWithOwner(roomId: string) {
    const row = await this.o.db
      .selectFrom('rooms')
      .innerJoin('users', 'users.id', 'rooms.owner_id')
      .select(['rooms.kind', 'rooms.status', 'rooms.owner_id', 'users.display_name as owner_name', 'users.studio_id'])
      .where('rooms.id', '=', roomId)
      .executeTakeFirst();
    if (!row) throw notFound(`no room ${roomId}`, ErrorCode.RoomNotFound);
    return row;
  }

  #refuse(operation: string, err: AppError): AppError {
    this.o.metrics.rejections.inc({ operation, reason: err.code });
    return err;
  }
}
