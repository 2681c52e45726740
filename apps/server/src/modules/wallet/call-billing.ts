import { randomUUID } from 'node:crypto';
import { AppError, conflict, forbidden, type Logger } from '@fusionflow/kit';
import {
  asRoomId,
  asUserId,
  type CallBillingMessage,
  type CallSession,
  ErrorCode,
  type Room,
  type RoomId,
} from '@fusionflow/protocol';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { CallSessionsTable, Database } from '../../db/schema.js';
import type { Session } from '../identity/access-tokens.js';
import type { RoomService } from '../rooms/room-service.js';
import type { CallParticipants, CallSlot, CallSlotEvent } from './call-participants.js';
import type { Ledger } from './ledger.js';
import { revenuePostings, type SplitPolicy, splitRevenue } from './revenue-split.js';
import type { WalletMetrics } from './wallet-metrics.js';

export interface CallBillingOptions {
  db: Kysely<Database>;
  ledger: Ledger;
  /** Who holds a slot in a call, and how to tell them (the signaling side implements it). */
  participants: CallParticipants;
  rooms: Pick<RoomService, 'get'>;
  policy: SplitPolicy;
  metrics: WalletMetrics;
  logger: Logger;
  /** Length of a billed minute (tests shorten it). */
  minuteMs?: number;
  /** How often a running meter looks at who is connected and whether a minute is due. */
  tickMs?: number;
  /** An open session untouched for this long is closed when its payer comes back, and a new one starts. */
  staleMs?: number;
  /**
   * How long a dropped connection's slot is held (RECONNECT_GRACE_SECONDS): the most time a minute
   * due while nobody ran the meter (a restart) is charged back for.
   */
  graceMs?: number;
  /**
   * How often this process looks for meters nobody runs (the process that held the payer's
   * connection shut down and the payer did not come back) and takes them over.
   */
  sweepMs?: number;
}

type EndReason = NonNullable<CallBillingMessage['endReason']>;

/** The running meter of one payer in one paid call room, on the process holding the payer's connection. */
interface Meter {
  readonly sessionId: string;
  readonly roomId: RoomId;
  readonly payerId: string;
  readonly streamerId: string;
  readonly studioId: string | null;
  readonly price: number;
  /** The connection holding the payer's slot that this meter follows (connected or waiting). */
  connection: string;
  paidUntil: number;
  pausedAt: number | null;
  minutesCharged: number;
  tokensCharged: number;
  lowBalance: boolean;
  balance: number | undefined;
  timer: NodeJS.Timeout;
  busy: boolean;
  /** Billing messages sent so far. */
  announced: number;
}

const meterKey = (roomId: string, payerId: string) => `${roomId} ${payerId}`;

/**
 * Private calls billed per started minute.
 *
 * A `call` room with a `pricePerMinute` admits its owner and one paying account at a time, on one
 * connection, and only one who can pay a minute. Media is peer to peer, so the meter follows the
 * slots, not the signaling connections: it runs while both sides hold a slot in the room, also
 * while a slot waits for a dropped connection to come back (media may still flow), and stops when
 * the payer's slot goes (left, released after the grace period, removed, the room ended). The first
 * minute is charged when both are first there, each next one when the paid time runs out, from
 * when it was due. A minute that falls due while the streamer's connection is down is charged only
 * if they come back in time (then from when it was due, so nothing is free); if their slot is
 * released, the meter stands still from where the paid time ran out and that time is never
 * charged: the payer pays for no minute in which the streamer was gone for good. While the streamer
 * is not in the room the time stands still and is given back on their return. When the balance will
 * not cover the next minute, both sides are warned (a minute before the end); when a minute cannot
 * be paid, the call ends and the payer is removed from the room.
 *
 * Every minute is a `call_minute` ledger transaction keyed `call:<session>:<n>` and split like a
 * tip, so a retry, a restart or a second process can never charge a minute twice; `call_sessions`
 * keeps each session's minutes and tokens for both sides and for disputes.
 */
export class CallBilling {
  readonly #meters = new Map<string, Meter>();
  readonly #unsubscribe: () => void;
  readonly #minuteMs: number;
  readonly #tickMs: number;
  readonly #staleMs: number;
  readonly #graceMs: number;
  readonly #sweeper: NodeJS.Timeout;
  #sweeping = false;
  readonly #log: Logger;
  #closed = false;

  constructor(private readonly o: CallBillingOptions) {
    this.#minuteMs = o.minuteMs ?? 60_000;
    this.#tickMs = o.tickMs ?? 1_000;
    this.#staleMs = o.staleMs ?? 10 * 60_000;
    this.#graceMs = o.graceMs ?? 30_000;
    this.#log = o.logger;
    this.#unsubscribe = o.participants.on('slot', (event) => void this.#onSlot(event));
    this.#sweeper = setInterval(() => void this.#sweep(), o.sweepMs ?? 5_000);
    this.#sweeper.unref();
  }

  /** Meters running on this process. */
  get running(): number {
    return this.#meters.size;
  }

  /**
   * Admission to a paid call (called by the call signaling before a new member is added): the
   * owner always; otherwise a signed-in account that can pay a minute, while nobody else is paying
   * and not already there on another connection (a second connection could stay in the call after
   * the first one left, and the meter ends with the payer's slot).
   */
  async admit(room: Room, session: Session): Promise<void> {
    const price = room.pricePerMinute ?? 0;
    if (price <= 0 || session.userId === room.ownerId) return;
    if (session.isGuest) throw forbidden('sign in to book a private call');
    this.confirm(room, session, await this.o.participants.slots(room.id));
    const balance = await this.o.ledger.balance({ kind: 'wallet', ownerId: session.userId });
    if (balance < price) {
      throw new AppError(
        ErrorCode.InsufficientBalance,
        `a private call costs ${price} tokens a minute and your balance is ${balance}; top up first`,
        { pricePerMinute: price, balance },
      );
    }
  }

  /**
   * The seat rules again, right after the payer's slot was added, over the members that joined
   * before it (RoomKindPolicy.confirm): of two joins racing each other, the later one is refused.
   */
  confirm(room: Room, session: Session, earlier: readonly CallSlot[]): void {
    if ((room.pricePerMinute ?? 0) <= 0 || session.userId === room.ownerId) return;
    if (earlier.some((m) => m.userId === session.userId)) {
      throw conflict('you are already in this private call on another connection; leave there first');
    }
    if (earlier.some((m) => m.userId !== room.ownerId)) {
      throw new AppError(ErrorCode.RoomFull, 'this private call is taken; try again later');
    }
  }

  /** The sessions a user paid for or earned from (admins: anyone's), newest first, with every minute. */
  async sessions(userId: string): Promise<CallSession[]> {
    const rows = await this.o.db
      .selectFrom('call_sessions as s')
      .innerJoin('users as p', 'p.id', 's.payer_id')
      .innerJoin('users as st', 'st.id', 's.streamer_id')
      .selectAll('s')
      .select(['p.display_name as payer_name', 'st.display_name as streamer_name'])
      .where((eb) => eb.or([eb('s.payer_id', '=', userId), eb('s.streamer_id', '=', userId)]))
      .orderBy('s.started_at', 'desc')
      .limit(100)
      .execute();
    if (rows.length === 0) return [];
    const minutes = await this.o.db
      .selectFrom('ledger_transactions')
      .select([
        'id',
        'created_at',
        sql<string>`metadata->>'sessionId'`.as('session'),
        sql<number>`(metadata->>'minute')::int`.as('minute'),
      ])
      .where('kind', '=', 'call_minute')
      .where(
        sql<string>`metadata->>'sessionId'`,
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      roomId: asRoomId(r.room_id),
      payerId: asUserId(r.payer_id),
      payerName: r.payer_name,
      streamerId: asUserId(r.streamer_id),
      streamerName: r.streamer_name,
      pricePerMinute: r.price_per_minute,
      minutesCharged: r.minutes_charged,
      tokensCharged: Number(r.tokens_charged),
      startedAt: new Date(r.started_at).toISOString(),
      endedAt: r.ended_at ? new Date(r.ended_at).toISOString() : null,
      endReason: r.end_reason,
      minutes: minutes
        .filter((m) => m.session === r.id)
        .map((m) => ({ minute: Number(m.minute), transactionId: m.id, chargedAt: m.created_at.toISOString() })),
    }));
  }

  /** Idempotent: stops every meter on this process (open sessions stay open and resume on return). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    clearInterval(this.#sweeper);
    for (const meter of this.#meters.values()) clearInterval(meter.timer);
    this.#meters.clear();
  }

  // --- slots ----------------------------------------------------------------------------------

  async #onSlot(event: CallSlotEvent): Promise<void> {
    if (this.#closed) return;
    try {
      if (event.type === 'joined') {
        const room = await this.o.rooms.get(event.roomId);
        if (room.kind !== 'call' || (room.pricePerMinute ?? 0) <= 0 || event.member.userId === room.ownerId) return;
        await this.#start(room, event.member);
      } else if (event.type === 'left') {
        const reason: EndReason = event.ended ? 'ended' : 'left';
        const meter = this.#meters.get(meterKey(event.roomId, event.member.userId));
        if (meter) await this.#end(meter, reason);
        else await this.#closeSession(event.roomId, event.member.userId, reason);
      }
    } catch (err) {
      this.#log.error({ err, roomId: event.roomId, event: event.type }, 'call billing could not follow a slot change');
    }
  }

  /**
   * Meters nobody runs. A meter lives on the process that holds (or held) the payer's connection;
   * when that process shuts down (a rolling restart) and the payer does not come back, nothing would
   * bill the slot while it waits, nor release it when its grace period is over, and the owner's
   * client would keep the peer-to-peer media up. So every process looks for open sessions whose
   * minute is overdue: reading the room's members releases an expired slot (the session ends and
   * the owner is told `peer-left`); a payer's slot that still waits, with the owner there, is
   * metered here from then on (owed time is charged from when it was due, as after any delay).
   */
  async #sweep(): Promise<void> {
    if (this.#closed || this.#sweeping) return;
    this.#sweeping = true;
    try {
      // A running meter charges within a tick of the due time, or waits for an owner who is away.
      const overdue = new Date(Date.now() - Math.min(this.#graceMs / 2, 10 * this.#tickMs));
      const open = await this.o.db
        .selectFrom('call_sessions')
        .select(['room_id', 'payer_id', 'streamer_id'])
        .where('ended_at', 'is', null)
        .where('paused_at', 'is', null)
        .where('paid_until', '<', overdue)
        .limit(1000)
        .execute();
      for (const row of open) {
        if (this.#closed) return;
        if (this.#meters.has(meterKey(row.room_id, row.payer_id))) continue;
        const roomId = asRoomId(row.room_id);
        const members = await this.o.participants.slots(roomId);
        const payer = members.find((m) => m.userId === row.payer_id);
        // Gone (its session ended with the released slot), or connected: its own process meters it.
        if (!payer || payer.connected) continue;
        if (!members.some((m) => m.userId === row.streamer_id && m.connected)) continue;
        this.#log.info({ roomId, payerId: row.payer_id }, 'private call meter taken over from a process that went');
        await this.#start(await this.o.rooms.get(roomId), payer);
      }
    } catch (err) {
      this.#log.error({ err }, 'could not look for private call meters nobody runs');
    } finally {
      this.#sweeping = false;
    }
  }

  async #start(room: Room, payer: CallSlot): Promise<void> {
    const key = meterKey(room.id, payer.userId);
    const running = this.#meters.get(key);
    if (running) {
      // The payer resumed on this process: the same meter follows the new connection.
      running.connection = payer.connection;
      this.#announceState(running, await this.o.participants.slots(room.id));
      return;
    }
    const now = Date.now();
    let row = await this.#openSession(room, payer.userId, now);
    const lastActivity = new Date(row.paused_at ?? row.paid_until).getTime();
    if (lastActivity < now - this.#staleMs) {
      // Left over from a payer who never came back (or a crash): close it and start afresh.
      await this.#closeSession(room.id, payer.userId, 'left');
      row = await this.#openSession(room, payer.userId, now);
    }
    if (this.#meters.has(key) || this.#closed) return;
    const owner = await this.o.db
      .selectFrom('users')
      .select('studio_id')
      .where('id', '=', room.ownerId)
      .executeTakeFirst();
    const meter: Meter = {
      sessionId: row.id,
      roomId: room.id,
      payerId: payer.userId,
      streamerId: row.streamer_id,
      studioId: owner?.studio_id ?? null,
      price: row.price_per_minute,
      connection: payer.connection,
      paidUntil: new Date(row.paid_until).getTime(),
      pausedAt: row.paused_at ? new Date(row.paused_at).getTime() : null,
      minutesCharged: row.minutes_charged,
      tokensCharged: Number(row.tokens_charged),
      lowBalance: false,
      balance: undefined,
      timer: setInterval(() => void this.#tick(meter), this.#tickMs),
      busy: false,
      announced: 0,
    };
    this.#meters.set(key, meter);
    this.#log.info(
      { roomId: room.id, sessionId: meter.sessionId, payerId: payer.userId },
      'private call meter started',
    );
    const announced = meter.announced;
    await this.#tick(meter);
    // A payer who (re)joined learns where the meter stands even when this tick had nothing to say.
    if (meter.announced === announced && this.#meters.get(key) === meter) {
      this.#announceState(meter, await this.o.participants.slots(room.id));
    }
  }

  /** The payer's open session in this room, created (price fixed at its start) if there is none. */
  async #openSession(room: Room, payerId: string, now: number): Promise<Selectable<CallSessionsTable>> {
    await this.o.db
      .insertInto('call_sessions')
      .values({
        id: randomUUID(),
        room_id: room.id,
        payer_id: payerId,
        streamer_id: room.ownerId,
        price_per_minute: room.pricePerMinute!,
        started_at: new Date(now),
        paid_until: new Date(now),
        paused_at: null,
      })
      .onConflict((oc) => oc.columns(['room_id', 'payer_id']).where('ended_at', 'is', null).doNothing())
      .execute();
    return this.o.db
      .selectFrom('call_sessions')
      .selectAll()
      .where('room_id', '=', room.id)
      .where('payer_id', '=', payerId)
      .where('ended_at', 'is', null)
      .executeTakeFirstOrThrow();
  }

  // --- the meter ------------------------------------------------------------------------------

  async #tick(meter: Meter): Promise<void> {
    if (meter.busy || this.#closed) return;
    meter.busy = true;
    try {
      const members = await this.o.participants.slots(meter.roomId);
      const payer = members.find((m) => m.userId === meter.payerId);
      if (!payer) {
        await this.#end(meter, 'left', members);
        return;
      }
      if (payer.connection !== meter.connection) {
        // Another connection took the payer's slot over (a resume on another process): its meter runs there.
        this.#stop(meter);
        return;
      }
      const owner = members.filter((m) => m.userId === meter.streamerId);
      const now = Date.now();
      if (owner.length === 0) {
        await this.#pause(meter, now, members);
        return;
      }
      if (meter.pausedAt !== null) {
        // The streamer is back: the time the meter stood still is given back.
        meter.paidUntil += now - meter.pausedAt;
        meter.pausedAt = null;
        await this.o.db
          .updateTable('call_sessions')
          .set({ paid_until: new Date(meter.paidUntil), paused_at: null })
          .where('id', '=', meter.sessionId)
          .execute();
        if (now < meter.paidUntil) this.#announce(meter, 'running', members);
      }
      // A minute due while the streamer's connection is down waits: charged if they come back in time.
      if (now >= meter.paidUntil && owner.some((m) => m.connected)) await this.#charge(meter, members, now);
    } catch (err) {
      this.#log.error({ err, roomId: meter.roomId, sessionId: meter.sessionId }, 'call billing tick failed');
    } finally {
      meter.busy = false;
    }
  }

  /** Stop this process's loop for the meter (the session goes on wherever the payer is now). */
  #stop(meter: Meter): void {
    clearInterval(meter.timer);
    if (this.#meters.get(meterKey(meter.roomId, meter.payerId)) === meter) {
      this.#meters.delete(meterKey(meter.roomId, meter.payerId));
    }
  }

  /**
   * Stop the meter's clock (idempotent): the streamer is not in the room. Time owed since the paid
   * time ran out (a minute that fell due while their connection was down) is not charged: the
   * clock stands where the paid time ended.
   */
  async #pause(meter: Meter, now: number, members: readonly CallSlot[]): Promise<void> {
    if (meter.pausedAt !== null) return;
    const at = Math.min(now, meter.paidUntil);
    meter.pausedAt = at;
    await this.o.db
      .updateTable('call_sessions')
      .set({ paused_at: new Date(at) })
      .where('id', '=', meter.sessionId)
      .where('paused_at', 'is', null)
      .execute();
    this.#announce(meter, 'paused', members);
  }

  async #charge(meter: Meter, members: readonly CallSlot[], now: number): Promise<void> {
    const split = splitRevenue(meter.price, this.o.policy, meter.studioId !== null);
    let outcome: { state: Selectable<CallSessionsTable>; balance: number | undefined; charged: boolean } | null;
    try {
      outcome = await this.o.ledger.run('call_minute', async (tx) => {
        const row = await tx
          .selectFrom('call_sessions')
          .selectAll()
          .where('id', '=', meter.sessionId)
          .forUpdate()
          .executeTakeFirstOrThrow();
        if (row.ended_at) return null;
        const paidUntil = new Date(row.paid_until).getTime();
        // Another process (or an earlier tick) charged this minute already.
        if (paidUntil > now) return { state: row, balance: undefined, charged: false };
        const minute = row.minutes_charged + 1;
        const posted = await this.o.ledger.post(tx, {
          kind: 'call_minute',
          idempotencyKey: `call:${meter.sessionId}:${minute}`,
          request: { sessionId: meter.sessionId, minute, price: meter.price },
          actorId: meter.payerId,
          requestId: null,
          roomId: meter.roomId,
          reason: `private call minute ${minute} (${meter.price})`,
          metadata: {
            sessionId: meter.sessionId,
            minute,
            payerId: meter.payerId,
            streamerId: meter.streamerId,
            studioId: meter.studioId,
            price: meter.price,
            split,
          },
          postings: revenuePostings(meter.payerId, meter.price, split, meter.streamerId, meter.studioId),
        });
        const state = await tx
          .updateTable('call_sessions')
          .set({
            minutes_charged: minute,
            tokens_charged: sql`tokens_charged + ${meter.price}`,
            // Per started minute, from when it was due: time away is paid, not skipped. Only after
            // nobody ran the meter (a restart) is more than a grace period's worth forgiven.
            paid_until: new Date(Math.max(paidUntil, now - this.#graceMs) + this.#minuteMs),
          })
          .where('id', '=', meter.sessionId)
          .returningAll()
          .executeTakeFirstOrThrow();
        return { state, balance: posted.balances.get(`wallet:${meter.payerId}`), charged: !posted.replayed };
      });
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.InsufficientBalance) {
        this.o.metrics.rejections.inc({ operation: 'call_minute', reason: err.code });
        await this.#end(meter, 'balance', members);
        return;
      }
      throw err;
    }
    if (!outcome) {
      await this.#end(meter, 'left', members);
      return;
    }
    meter.paidUntil = new Date(outcome.state.paid_until).getTime();
    meter.minutesCharged = outcome.state.minutes_charged;
    meter.tokensCharged = Number(outcome.state.tokens_charged);
    meter.balance = outcome.balance ?? (await this.o.ledger.balance({ kind: 'wallet', ownerId: meter.payerId }));
    const low = meter.balance < meter.price;
    if (low && !meter.lowBalance) {
      this.#log.info(
        { roomId: meter.roomId, sessionId: meter.sessionId },
        'private call: balance covers only the current minute',
      );
    }
    meter.lowBalance = low;
    if (outcome.charged) {
      this.o.metrics.callMinutes.inc();
      this.o.metrics.tokensSpent.inc({ kind: 'call_minute' }, meter.price);
    }
    this.#announce(meter, 'running', members);
  }

  async #end(meter: Meter, reason: EndReason, members?: readonly CallSlot[]): Promise<void> {
    this.#stop(meter);
    await this.#closeSession(meter.roomId, meter.payerId, reason);
    const present = members ?? (await this.o.participants.slots(meter.roomId));
    this.#announce(meter, 'ended', present, reason);
    if (reason === 'balance') {
      const payer = present.find((m) => m.userId === meter.payerId);
      if (payer) {
        await this.o.participants.remove(meter.roomId, payer.peerId, {
          roomId: meter.roomId,
          reason: 'balance',
          message: 'your balance ran out, so the private call ended',
        });
      }
    }
    this.#log.info(
      { roomId: meter.roomId, sessionId: meter.sessionId, reason, minutes: meter.minutesCharged },
      'private call meter ended',
    );
  }

  async #closeSession(roomId: RoomId, payerId: string, reason: EndReason): Promise<void> {
    await this.o.db
      .updateTable('call_sessions')
      .set({ ended_at: new Date(), end_reason: reason, paused_at: null })
      .where('room_id', '=', roomId)
      .where('payer_id', '=', payerId)
      .where('ended_at', 'is', null)
      .execute();
  }

  #announceState(meter: Meter, members: readonly CallSlot[]): void {
    this.#announce(meter, meter.pausedAt === null ? 'running' : 'paused', members);
  }

  /** The meter, to both sides; only the payer's copy carries the balance. */
  #announce(
    meter: Meter,
    status: CallBillingMessage['status'],
    members: readonly CallSlot[],
    endReason?: EndReason,
  ): void {
    meter.announced++;
    const now = Date.now();
    const until = meter.pausedAt ?? now;
    const message: CallBillingMessage = {
      roomId: meter.roomId,
      sessionId: meter.sessionId,
      status,
      pricePerMinute: meter.price,
      minutesCharged: meter.minutesCharged,
      tokensCharged: meter.tokensCharged,
      secondsLeft: status === 'ended' ? 0 : Math.max(0, Math.ceil((meter.paidUntil - until) / 1000)),
      lowBalance: meter.lowBalance,
      ...(endReason ? { endReason } : {}),
    };
    for (const m of members) {
      if (m.userId === meter.payerId) {
        this.o.participants.tell(m.peerId, {
          ...message,
          ...(meter.balance !== undefined ? { balance: meter.balance } : {}),
        });
      } else if (m.userId === meter.streamerId) {
        this.o.participants.tell(m.peerId, message);
      }
    }
  }
}
