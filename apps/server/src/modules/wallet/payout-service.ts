import { AppError, conflict, forbidden, type Logger, notFound } from '@fusionflow/kit';
import { asUserId, ErrorCode, type Payout, type PayoutDecision, type PayoutRequest } from '@fusionflow/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { AuditLog } from '../governance/audit-log.js';
import type { Ledger } from './ledger.js';
import type { WalletMetrics } from './wallet-metrics.js';
import type { RequestContext } from './wallet-service.js';

const EARNERS = new Set(['streamer', 'studio', 'admin']);

/**
 * Payouts: a streamer (or studio) asks for earnings to be paid out; the tokens move at once from
 * earnings to a pending account so they cannot be spent twice; an admin approves (they leave to the
 * payouts account) or rejects (they return to earnings). Nobody approves their own payout.
 */
export class PayoutService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly ledger: Ledger,
    private readonly metrics: WalletMetrics,
    private readonly logger: Logger,
    private readonly audit?: AuditLog,
    /** Payouts above this many tokens need two different admins to approve them. */
    private readonly secondApprovalAbove = Number.POSITIVE_INFINITY,
  ) {}

  async request(ctx: RequestContext, req: PayoutRequest): Promise<Payout> {
    const s = ctx.session;
    const refuse = (err: AppError) => {
      this.metrics.rejections.inc({ operation: 'payout', reason: err.code });
      return err;
    };
    if (!EARNERS.has(s.role)) throw refuse(forbidden('only streamers and studios have earnings to pay out'));
    if (req.source === 'studio' && s.role !== 'studio')
      throw refuse(forbidden('only a studio draws on studio earnings'));
    const id = await this.ledger
      .run('payout_request', async (tx) => {
        const posted = await this.ledger.post(tx, {
          kind: 'payout_request',
          idempotencyKey: `payout:${s.userId}:${ctx.idempotencyKey}`,
          request: req,
          actorId: s.userId,
          requestId: ctx.requestId,
          reason: `payout of ${req.amount} requested from ${req.source}`,
          postings: [
            { account: { kind: req.source, ownerId: s.userId }, amount: -req.amount },
            { account: { kind: 'payout_pending', ownerId: s.userId }, amount: req.amount },
          ],
        });
        if (posted.replayed) {
          const row = await tx
            .selectFrom('payouts')
            .select('id')
            .where('request_transaction_id', '=', posted.transactionId)
            .executeTakeFirstOrThrow();
          return row.id;
        }
        const row = await tx
          .insertInto('payouts')
          .values({
            id: posted.transactionId,
            user_id: s.userId,
            source: req.source,
            amount: req.amount,
            status: 'pending',
            request_transaction_id: posted.transactionId,
          })
          .returning('id')
          .executeTakeFirstOrThrow();
        this.metrics.payouts.inc({ status: 'pending' });
        return row.id;
      })
      .catch((err) => {
        throw err instanceof AppError ? refuse(err) : err;
      });
    return this.get(id);
  }

  async decide(ctx: RequestContext, payoutId: string, d: PayoutDecision): Promise<Payout> {
    if (ctx.session.role !== 'admin') throw forbidden('only an admin decides payouts');
    await this.ledger.run(d.decision === 'approve' ? 'payout_approve' : 'payout_reject', async (tx) => {
      const payout = await tx
        .selectFrom('payouts')
        .selectAll()
        .where('id', '=', payoutId)
        .forUpdate()
        .executeTakeFirst();
      if (!payout) throw notFound('no such payout');
      // Four eyes: money leaves the platform only on someone else's word (rejecting your own is a cancel).
      if (d.decision === 'approve' && payout.user_id === ctx.session.userId) {
        throw forbidden('another admin must approve your own payout', ErrorCode.SelfApproval);
      }
      const wanted = d.decision === 'approve' ? 'approved' : 'rejected';
      if (payout.status === wanted) return; // the same decision again changes nothing
      if (payout.status !== 'pending') {
        throw conflict(`the payout was already ${payout.status}`, ErrorCode.InvalidTransition);
      }
      const amount = Number(payout.amount);
      if (d.decision === 'approve' && amount > this.secondApprovalAbove) {
        if (payout.first_approved_by === null) {
          // The first of two: nothing moves yet.
          await tx
            .updateTable('payouts')
            .set({ first_approved_by: ctx.session.userId, first_approved_at: new Date() })
            .where('id', '=', payout.id)
            .execute();
          await this.audit?.record(
            {
              actorId: ctx.session.userId,
              actorRole: ctx.session.role,
              action: 'payout.first_approval',
              targetType: 'payout',
              targetId: payout.id,
              reason: d.note ?? null,
              requestId: ctx.requestId,
              details: { userId: payout.user_id, amount, source: payout.source },
            },
            tx,
          );
          this.logger.info({ payoutId, admin: ctx.session.userId }, 'payout approved once; a second admin must too');
          return;
        }
        if (payout.first_approved_by === ctx.session.userId) {
          throw forbidden(
            `payouts above ${this.secondApprovalAbove} tokens need a second, different admin`,
            ErrorCode.SecondApprovalRequired,
          );
        }
      }
      const posted = await this.ledger.post(tx, {
        kind: d.decision === 'approve' ? 'payout_approve' : 'payout_reject',
        idempotencyKey: `payout-decision:${payout.id}`,
        request: { payoutId: payout.id, decision: d.decision },
        actorId: ctx.session.userId,
        requestId: ctx.requestId,
        reason: `payout ${payout.id} ${wanted}${d.note ? `: ${d.note}` : ''}`,
        metadata: { payoutId: payout.id, userId: payout.user_id },
        postings: [
          { account: { kind: 'payout_pending', ownerId: payout.user_id }, amount: -amount },
          d.decision === 'approve'
            ? { account: { kind: 'payouts' }, amount }
            : { account: { kind: payout.source, ownerId: payout.user_id }, amount },
        ],
      });
      await tx
        .updateTable('payouts')
        .set({
          status: wanted,
          decision_transaction_id: posted.transactionId,
          decided_by: ctx.session.userId,
          decided_at: new Date(),
          note: d.note ?? null,
        })
        .where('id', '=', payout.id)
        .execute();
      await this.audit?.record(
        {
          actorId: ctx.session.userId,
          actorRole: ctx.session.role,
          action: d.decision === 'approve' ? 'payout.approve' : 'payout.reject',
          targetType: 'payout',
          targetId: payout.id,
          reason: d.note ?? null,
          requestId: ctx.requestId,
          details: {
            userId: payout.user_id,
            amount,
            source: payout.source,
            transactionId: posted.transactionId,
            ...(payout.first_approved_by ? { firstApprovedBy: payout.first_approved_by } : {}),
          },
        },
        tx,
      );
      this.metrics.payouts.inc({ status: wanted });
      this.logger.info({ payoutId, decision: wanted, admin: ctx.session.userId }, 'payout decided');
    });
    return this.get(payoutId);
  }

  async get(id: string): Promise<Payout> {
    const [payout] = await this.#list((q) => q.where('p.id', '=', id));
    if (!payout) throw notFound('no such payout');
    return payout;
  }

  list(filter: { userId?: string; status?: Payout['status'] }): Promise<Payout[]> {
    return this.#list((q) => {
      let r = q;
      if (filter.userId) r = r.where('p.user_id', '=', filter.userId);
      if (filter.status) r = r.where('p.status', '=', filter.status);
      return r;
    });
  }

  async #list(where: (q: ReturnType<PayoutService['base']>) => ReturnType<PayoutService['base']>): Promise<Payout[]> {
    const rows = await where(this.base()).orderBy('p.created_at', 'desc').limit(500).execute();
    return rows.map((r) => ({
      id: r.id,
      userId: asUserId(r.user_id),
      displayName: r.display_name,
      source: r.source,
      amount: Number(r.amount),
      status: r.status,
      note: r.note,
      createdAt: r.created_at.toISOString(),
      decidedAt: r.decided_at ? new Date(r.decided_at).toISOString() : null,
      decidedBy: r.decided_by,
      firstApprovedBy: r.first_approved_by,
      needsSecondApproval: Number(r.amount) > this.secondApprovalAbove,
    }));
  }

  base() {
    return this.db
      .selectFrom('payouts as p')
      .innerJoin('users as u', 'u.id', 'p.user_id')
      .selectAll('p')
      .select('u.display_name');
  }
}
