import { Gauge, type Registry } from '@fusionflow/kit';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';

/** Dependencies whose health a scrape reports; each check throws when the dependency is down. */
export type DependencyChecks = Partial<Record<'database' | 'redis' | 'sfu', () => Promise<void>>>;

const PING_TIMEOUT_MS = 2000;
/** The database totals are read at most this often, however often Prometheus scrapes. */
const TOTALS_TTL_MS = 30_000;

interface Totals {
  liveRooms: number;
  liveViewers: number;
  activeDay: number;
  activeMonth: number;
}

function withTimeout(check: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), PING_TIMEOUT_MS);
    check().then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * Platform-wide series read at scrape time: whether each dependency answers
 * (`platform_dependency_up`), and totals from the database that are the same on every process
 * (take `max` over instances): rooms live, viewers watching them, and active users (accounts that
 * signed in or refreshed their session within a day or 30 days).
 */
export function registerPlatformMetrics(o: {
  metrics: Registry;
  db: Kysely<Database>;
  checks: DependencyChecks;
  /** How long the database totals are reused (tests read them fresh). */
  totalsTtlMs?: number;
}): void {
  const ttl = o.totalsTtlMs ?? TOTALS_TTL_MS;
  const checks = Object.entries(o.checks).filter((e): e is [string, () => Promise<void>] => e[1] !== undefined);
  new Gauge({
    name: 'platform_dependency_up',
    help: 'Whether a dependency answered at scrape time (1) or not (0): database, redis, sfu',
    labelNames: ['dependency'] as const,
    registers: [o.metrics],
    async collect() {
      await Promise.all(
        checks.map(async ([dependency, check]) => {
          const up = await withTimeout(check).then(
            () => 1,
            () => 0,
          );
          this.set({ dependency }, up);
        }),
      );
    },
  });

  let totals: { at: number; value: Promise<Totals> } | undefined;
  const readTotals = async (): Promise<Totals> => {
    const live = await o.db
      .selectFrom('rooms')
      .select((eb) => [eb.fn.countAll<string>().as('rooms'), sql<string>`coalesce(sum(viewer_count), 0)`.as('viewers')])
      .where('status', '=', 'live')
      .where('kind', '=', 'live')
      .executeTakeFirstOrThrow();
    const active = await sql<{ day: string; month: string }>`
      select count(distinct user_id) filter (where created_at > now() - interval '1 day') as day,
             count(distinct user_id) as month
      from refresh_tokens where created_at > now() - interval '30 days'`.execute(o.db);
    return {
      liveRooms: Number(live.rooms),
      liveViewers: Number(live.viewers),
      activeDay: Number(active.rows[0]?.day ?? 0),
      activeMonth: Number(active.rows[0]?.month ?? 0),
    };
  };
  const current = (): Promise<Totals> => {
    if (!totals || Date.now() - totals.at >= ttl) {
      const value = readTotals();
      totals = { at: Date.now(), value };
      // A failed read is retried at the next scrape.
      value.catch(() => {
        if (totals?.value === value) totals = undefined;
      });
    }
    return totals.value;
  };
  const fromTotals = (name: string, help: string, pick: (t: Totals) => number) =>
    new Gauge({
      name,
      help,
      registers: [o.metrics],
      async collect() {
        const t = await current().catch(() => undefined);
        if (t) this.set(pick(t));
      },
    });
  fromTotals('platform_live_rooms', 'Live rooms on air (all processes: take max)', (t) => t.liveRooms);
  fromTotals(
    'platform_live_viewers',
    'Viewers watching live rooms, as the SFU reports them (take max)',
    (t) => t.liveViewers,
  );
  new Gauge({
    name: 'platform_active_users',
    help: 'Accounts that signed in or kept a session alive within the window (1d, 30d; take max)',
    labelNames: ['window'] as const,
    registers: [o.metrics],
    async collect() {
      const t = await current().catch(() => undefined);
      if (!t) return;
      this.set({ window: '1d' }, t.activeDay);
      this.set({ window: '30d' }, t.activeMonth);
    },
  });
}
