import { randomUUID } from 'node:crypto';
import { createMetricsRegistry } from '@fusionflow/kit';
import type { CallBillingMessage, PeerId, RemovedMessage, RoomId } from '@fusionflow/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { CallBilling } from './call-billing.js';
import type { CallParticipants, CallParticipantsEvents, CallSlot } from './call-participants.js';
import { Ledger } from './ledger.js';
import { ledgerInvariants } from './test-ledger.js';
import { createWalletMetrics } from './wallet-metrics.js';

/**
 * A billed "minute" of one second (long enough that a loaded machine does not reach the next minute
 * between two steps of a test); the meter looks every 10 ms.
 */
const MINUTE_MS = 1000;
const PRICE = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/**
 * One call room as billing sees it, driven by the test: slots are held and given up by hand,
 * messages to clients and removals are recorded. No presence, no gateway, no sockets.
 */
class FakeCall implements CallParticipants {
  readonly held = new Map<PeerId, CallSlot>();
  readonly told: { peerId: PeerId; message: CallBillingMessage }[] = [];
  readonly removed: { peerId: PeerId; notice: RemovedMessage }[] = [];
  readonly #listeners = new Set<(e: CallParticipantsEvents['slot']) => void>();

  constructor(readonly roomId: RoomId) {}

  async slots(roomId: RoomId): Promise<CallSlot[]> {
    return roomId === this.roomId ? [...this.held.values()] : [];
  }
  on<K extends keyof CallParticipantsEvents>(_e: K, listener: (v: CallParticipantsEvents[K]) => void): () => void {
    const l = listener as (e: CallParticipantsEvents['slot']) => void;
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
  tell(peerId: PeerId, message: CallBillingMessage): void {
    this.told.push({ peerId, message });
  }
  async remove(roomId: RoomId, peerId: PeerId, notice: RemovedMessage): Promise<boolean> {
    const member = this.held.get(peerId);
    if (roomId !== this.roomId || !member) return false;
    this.removed.push({ peerId, notice });
    this.leave(peerId);
    return true;
  }

  get listeners(): number {
    return this.#listeners.size;
  }
  join(userId: string, peerId: PeerId): CallSlot {
    const slot = { peerId, userId, connection: `conn-${randomUUID()}`, connected: true };
    this.held.set(peerId, slot);
    for (const l of this.#listeners) l({ type: 'joined', roomId: this.roomId, member: slot });
    return slot;
  }
  /** The slot's connection dropped or came back; the slot stays held either way. */
  connected(peerId: PeerId, connected: boolean): void {
    this.held.set(peerId, { ...this.held.get(peerId)!, connected });
  }
  leave(peerId: PeerId, ended = false): void {
    const member = this.held.get(peerId);
    if (!member) return;
    this.held.delete(peerId);
    for (const l of this.#listeners) l({ type: 'left', roomId: this.roomId, member, ended });
  }
  /** The slot was released where billing did not hear of it (its grace period ran out elsewhere). */
  releaseQuietly(peerId: PeerId): void {
    this.held.delete(peerId);
  }
  lastTo(peerId: PeerId): CallBillingMessage | undefined {
    return this.told.filter((t) => t.peerId === peerId).at(-1)?.message;
  }
}

const OWNER = 'p-owner' as PeerId;
const PAYER = 'p-payer' as PeerId;

describe.each(testDatabases())('call billing over a fake CallParticipants on $name', (db) => {
  let t: TestPlatform;
  let streamer: { token: string; id: string };
  let ledger: Ledger;
  const billings: CallBilling[] = [];

  beforeAll(async () => {
    t = await startTestPlatform(
      db,
      { paymentsDevProvider: 'true', tokenPacks: [{ id: 'ten', tokens: 10, priceCents: 100, currency: 'USD' }] },
      { callBilling: { sweepMs: 3_600_000 } },
    );
    streamer = await t.signUp('Host', { role: 'streamer' });
    ledger = new Ledger(t.database.db, createWalletMetrics(createMetricsRegistry()).ledgerLatency);
  });
  afterEach(() => {
    for (const b of billings.splice(0)) b.close();
  });
  afterAll(async () => {
    await t.close();
  });

  /** A private call room, a payer holding `tokens` (a multiple of 10), and a billing following the fake. */
  async function setUp(tokens: number) {
    const room = await t.call('POST', '/api/rooms', {
      token: streamer.token,
      body: { kind: 'call', title: 'Private', pricePerMinute: PRICE },
    });
    expect(room.status).toBe(201);
    const payer = await t.signUp(`Payer ${randomUUID().slice(0, 8)}`);
    for (let left = tokens; left > 0; left -= 10) {
      const res = await t.call('POST', '/api/wallet/purchases', {
        token: payer.token,
        headers: { 'idempotency-key': `buy-${randomUUID()}` },
        body: { packId: 'ten', expectedPriceCents: 100 },
      });
      expect(res.status).toBe(201);
    }
    const call = new FakeCall(room.body.id as RoomId);
    const billing = new CallBilling({
      db: t.database.db,
      ledger,
      participants: call,
      rooms: t.platform.services.rooms,
      policy: { platformFeePercent: 20, studioSharePercent: 10 },
      metrics: createWalletMetrics(createMetricsRegistry()),
      logger: t.platform.logger,
      minuteMs: MINUTE_MS,
      tickMs: 10,
      graceMs: 10 * MINUTE_MS,
      sweepMs: 3_600_000,
    });
    billings.push(billing);
    const session = () =>
      t.database.db
        .selectFrom('call_sessions')
        .selectAll()
        .where('room_id', '=', call.roomId)
        .where('payer_id', '=', payer.id)
        .executeTakeFirstOrThrow();
    const balance = () => ledger.balance({ kind: 'wallet', ownerId: payer.id });
    const minutes = async () =>
      Number(
        (
          await t.database.db
            .selectFrom('ledger_transactions')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('kind', '=', 'call_minute')
            .where('room_id', '=', call.roomId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    return { call, billing, payer, session, balance, minutes };
  }

  /** Both sides there and the first minute charged. */
  async function underWay(tokens: number) {
    const s = await setUp(tokens);
    s.call.join(streamer.id, OWNER);
    s.call.join(s.payer.id, PAYER);
    await until(() => s.call.lastTo(PAYER)?.minutesCharged === 1);
    return s;
  }

  it('charges the first minute when both hold a slot, and tells each side (only the payer its balance)', async () => {
    const { call, billing, balance } = await underWay(30);
    expect(billing.running).toBe(1);
    expect(call.lastTo(PAYER)).toMatchObject({ status: 'running', minutesCharged: 1, tokensCharged: 10, balance: 20 });
    expect(call.lastTo(OWNER)).toMatchObject({ status: 'running', minutesCharged: 1 });
    expect(call.lastTo(OWNER)).not.toHaveProperty('balance');
    expect(await balance()).toBe(20);
  });

  it('a payer slot released mid-minute stops the meter: the session ends, nothing more is charged', async () => {
    const { call, billing, session, minutes, balance } = await underWay(50);
    // Released where billing heard nothing (its grace period ran out on another process).
    call.releaseQuietly(PAYER);
    await until(async () => (await session()).ended_at !== null);
    expect(billing.running).toBe(0);
    expect((await session()).end_reason).toBe('left');
    expect(call.lastTo(OWNER)).toMatchObject({ status: 'ended', endReason: 'left', secondsLeft: 0 });
    // Past the time the next minute was due: still the one minute.
    await sleep(1.5 * MINUTE_MS);
    expect(await minutes()).toBe(1);
    expect(await balance()).toBe(40);
    expect(call.removed).toEqual([]);
  });

  it('a payer leaving (the slot given up) ends the session at once; the room ending says so', async () => {
    const a = await underWay(30);
    a.call.leave(PAYER);
    await until(async () => (await a.session()).ended_at !== null);
    expect((await a.session()).end_reason).toBe('left');
    expect(a.billing.running).toBe(0);

    const b = await underWay(30);
    b.call.leave(PAYER, true);
    await until(async () => (await b.session()).ended_at !== null);
    expect((await b.session()).end_reason).toBe('ended');
  });

  it("the payer's connection down but its slot held keeps charging (media may still flow)", async () => {
    const { call, session, billing } = await underWay(50);
    call.connected(PAYER, false);
    await until(() => (call.lastTo(OWNER)?.minutesCharged ?? 0) >= 3);
    const row = await session();
    expect(row.ended_at).toBeNull();
    expect(row.minutes_charged).toBeGreaterThanOrEqual(3);
    expect(billing.running).toBe(1);
  });

  it("a minute due while the owner's connection is down waits, and is charged from when it was due on return", async () => {
    const { call, session, minutes } = await underWay(50);
    call.connected(OWNER, false);
    const dueAt = new Date((await session()).paid_until).getTime();
    // Well past the due time (many ticks), with the owner still away: not charged.
    await until(() => Date.now() > dueAt + MINUTE_MS / 2);
    expect(await minutes()).toBe(1);
    call.connected(OWNER, true);
    await until(async () => (await session()).minutes_charged === 2);
    // Per started minute from when it was due: the time away is paid, not skipped.
    expect(new Date((await session()).paid_until).getTime()).toBe(dueAt + MINUTE_MS);
  });

  it('a minute the balance cannot pay ends the call and takes the payer out (once)', async () => {
    const { call, session, balance, minutes, billing } = await underWay(10);
    await until(async () => (await session()).ended_at !== null);
    expect((await session()).end_reason).toBe('balance');
    expect(call.removed).toEqual([{ peerId: PAYER, notice: expect.objectContaining({ reason: 'balance' }) }]);
    expect(call.lastTo(OWNER)).toMatchObject({ status: 'ended', endReason: 'balance' });
    expect(await minutes()).toBe(1);
    expect(await balance()).toBe(0);
    expect(billing.running).toBe(0);
    const inv = await ledgerInvariants(t.database);
    expect(inv).toMatchObject({ mismatched: [], negative: [], unbalancedTransactions: 0, total: 0 });
  });

  it('close() lets go of the participants and stops every meter', async () => {
    const { call, billing } = await underWay(30);
    expect(call.listeners).toBe(1);
    billing.close();
    expect(call.listeners).toBe(0);
    expect(billing.running).toBe(0);
  });
});
