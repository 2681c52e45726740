import { badRequest, forbidden, notFound } from '@fusionflow/kit';
import { asUserId, type CreateStudioRequest, type Studio, type User, type UserId } from '@fusionflow/protocol';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { Session } from '../identity/access-tokens.js';
import type { AuditLog } from './audit-log.js';

export interface StudioServiceOptions {
  db: Kysely<Database>;
  audit: AuditLog;
  accounts: { createAccount(input: CreateStudioRequest & { role: 'studio' }): Promise<User> };
  /** STUDIO_SHARE_PERCENT: the studio's part of what remains after the platform fee. */
  sharePercent: number;
}

/**
 * Studios (admins): create a studio account, attach streamers to it and detach them; see what
 * share it gets and what it earned. The split itself happens in the ledger (RevenueSplit) for every
 * tip, ticket and call minute of an attached streamer.
 */
export class StudioService {
  constructor(private readonly o: StudioServiceOptions) {}

  async create(actor: Session, req: CreateStudioRequest, requestId: string): Promise<Studio> {
    this.#admin(actor);
    const user = await this.o.accounts.createAccount({ ...req, role: 'studio' });
    await this.o.audit.record({
      actorId: actor.userId,
      actorRole: actor.role,
      action: 'studio.create',
      targetType: 'user',
      targetId: user.id,
      requestId,
      details: { email: req.email, displayName: req.displayName },
    });
    return this.get(user.id);
  }

  async list(): Promise<Studio[]> {
    const rows = await this.o.db
      .selectFrom('users')
      .select('id')
      .where('role', '=', 'studio')
      .orderBy('display_name')
      .limit(500)
      .execute();
    return Promise.all(rows.map((r) => this.get(asUserId(r.id))));
  }

  async get(studioId: UserId): Promise<Studio> {
    const studio = await this.o.db
      .selectFrom('users')
      .select(['id', 'display_name', 'email', 'role'])
      .where('id', '=', studioId)
      .executeTakeFirst();
    if (!studio || studio.role !== 'studio') throw notFound('no such studio');
    const streamers = await this.o.db
      .selectFrom('users')
      .select(['id', 'display_name'])
      .where('studio_id', '=', studioId)
      .orderBy('display_name')
      .execute();
    const earned = await this.o.db
      .selectFrom('ledger_entries as e')
      .innerJoin('ledger_transactions as t', 't.id', 'e.transaction_id')
      .select(sql<number>`coalesce(sum(e.amount), 0)`.as('total'))
      .where('e.account_id', '=', `studio:${studioId}`)
      .where('t.kind', 'in', ['tip', 'ticket', 'call_minute'])
      .executeTakeFirstOrThrow();
    return {
      id: asUserId(studio.id),
      displayName: studio.display_name,
      email: studio.email,
      sharePercent: this.o.sharePercent,
      streamers: streamers.map((s) => ({ id: asUserId(s.id), displayName: s.display_name })),
      earned: Number(earned.total),
    };
  }

  async attach(actor: Session, studioId: UserId, userId: UserId, requestId: string): Promise<Studio> {
    this.#admin(actor);
    await this.get(studioId);
    await this.o.db.transaction().execute(async (tx) => {
      const user = await tx
        .selectFrom('users')
        .select(['role', 'studio_id'])
        .where('id', '=', userId)
        .forUpdate()
        .executeTakeFirst();
      if (!user) throw notFound('no such account');
      if (user.role !== 'streamer') throw badRequest('only streamers are attached to a studio');
      if (user.studio_id === studioId) return;
      await tx
        .updateTable('users')
        .set({ studio_id: studioId, updated_at: new Date() })
        .where('id', '=', userId)
        .execute();
      await this.o.audit.record(
        {
          actorId: actor.userId,
          actorRole: actor.role,
          action: 'studio.attach',
          targetType: 'user',
          targetId: userId,
          requestId,
          details: { studioId, previousStudioId: user.studio_id },
        },
        tx,
      );
    });
    return this.get(studioId);
  }

  async detach(actor: Session, studioId: UserId, userId: UserId, requestId: string): Promise<Studio> {
    this.#admin(actor);
    await this.o.db.transaction().execute(async (tx) => {
      const detached = await tx
        .updateTable('users')
        .set({ studio_id: null, updated_at: new Date() })
        .where('id', '=', userId)
        .where('studio_id', '=', studioId)
        .executeTakeFirst();
      if (detached.numUpdatedRows === 0n) throw notFound('the streamer is not with this studio');
      await this.o.audit.record(
        {
          actorId: actor.userId,
          actorRole: actor.role,
          action: 'studio.detach',
          targetType: 'user',
          targetId: userId,
          requestId,
          details: { studioId },
        },
        tx,
      );
    });
    return this.get(studioId);
  }

  #admin(actor: Session): void {
    if (actor.role !== 'admin') throw forbidden('only an admin manages studios');
  }
}
