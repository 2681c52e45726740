/**
 * bench:ledger — sustained tips per second on PostgreSQL with 10, 100 and 1,000 wallets contending.
 *
 * A real control-plane process (the built one) on a throw-away PostgreSQL database; this process is
 * the load: C tips in flight at all times over keep-alive HTTP, each from a random wallet to a random
 * one of 10 streamers' rooms. Reported per scenario: tips/s, client latency p50/p95/p99, and CPU time
 * per tip of the server process and of PostgreSQL (all its processes), read from /proc.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Agent, setGlobalDispatcher } from 'undici';
import { percentile, processCpuMicros, processesCpuMicros } from '../lib/stats.js';

const WALLET_COUNTS = (process.env.BENCH_WALLETS ?? '10,100,1000').split(',').map(Number);
const TIPS_PER_SCENARIO = Number(process.env.BENCH_TIPS ?? 4000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 32);
const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const root = fileURLToPath(new URL('../../', import.meta.url));

setGlobalDispatcher(new Agent({ connections: IN_FLIGHT * 2, pipelining: 1, keepAliveTimeout: 30_000 }));

async function main() {
  const dbName = `ff_bench_${randomUUID().replaceAll('-', '').slice(0, 10)}`;
  const admin = new pg.Client({ connectionString: BASE_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const url = new URL(BASE_URL);
  url.pathname = `/${dbName}`;
  let server: ChildProcess | undefined;
  try {
    const started = await startServer(url.toString());
    server = started.child;
    const base = started.url;
    const results = [];
    for (const wallets of WALLET_COUNTS) results.push(await scenario(base, server.pid!, wallets));
    printTable(results);
  } finally {
    server?.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 500));
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
}

async function startServer(databaseUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/ffprof'] : []), 'apps/server/dist/bin.js'],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        DATABASE_URL: databaseUrl,
        DATABASE_POOL_SIZE: '20',
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        PASSWORD_HASH_COST: '10',
        PAYMENTS_DEV_PROVIDER: 'true',
        TIPS_PER_MINUTE: '10000',
        TIP_MAX_TOKENS: '1000',
        RATE_LIMIT_PER_MINUTE: '1000000',
        LOGIN_RATE_PER_IP_PER_MINUTE: '10000',
        // Every simulated user signs up from 127.0.0.1.
        REGISTRATIONS_PER_IP_PER_HOUR: '1000000',
        TOKEN_PACKS: JSON.stringify([{ id: 'bulk', tokens: 1_000_000, priceCents: 100, currency: 'USD' }]),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const m = /FusionFlow is running at (http:\/\/\S+)/.exec(out);
      if (m) {
        clearInterval(timer);
        resolve(m[1]!);
      }
    }, 50);
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  return { child, url };
}

async function call(base: string, path: string, token: string | null, body?: unknown, key?: string) {
  const res = await fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(key ? { 'idempotency-key': key } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await res.json()) as any;
  if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function account(base: string, name: string, role = 'viewer') {
  const r = await call(base, '/api/auth/register', null, {
    email: `${name}-${randomUUID()}@bench.test`,
    password: 'benchmark password',
    displayName: name,
    role,
  });
  return r.accessToken as string;
}

async function inBatches<T>(count: number, size: number, make: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < count; i += size) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(size, count - i) }, (_, j) => make(i + j)))));
  }
  return out;
}

async function scenario(base: string, serverPid: number, walletCount: number) {
  const rooms = await inBatches(10, 10, async (i) => {
    const token = await account(base, `streamer${i}`, 'streamer');
    return (await call(base, '/api/rooms', token, { kind: 'live', title: `bench ${i}` })).id as string;
  });
  const wallets = await inBatches(walletCount, 50, async (i) => {
    const token = await account(base, `wallet${i}`);
    await call(
      base,
      '/api/wallet/purchases',
      token,
      { packId: 'bulk', expectedPriceCents: 100 },
      `fund-${randomUUID()}`,
    );
    return token;
  });

  const latencies: number[] = [];
  let sent = 0;
  let refused = 0;
  const serverCpu0 = processCpuMicros(serverPid);
  const pgCpu0 = processesCpuMicros(/^postgres/);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (sent < TIPS_PER_SCENARIO) {
        sent++;
        const wallet = wallets[Math.floor(Math.random() * wallets.length)]!;
        const room = rooms[Math.floor(Math.random() * rooms.length)]!;
        const start = performance.now();
        try {
          await call(
            base,
            `/api/rooms/${room}/tips`,
            wallet,
            { amount: 1 + Math.floor(Math.random() * 20) },
            `tip-${randomUUID()}`,
          );
          latencies.push(performance.now() - start);
        } catch {
          refused++;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const serverCpu = processCpuMicros(serverPid) - serverCpu0;
  const pgCpu = processesCpuMicros(/^postgres/) - pgCpu0;
  const ok = latencies.length;
  return {
    wallets: walletCount,
    tips: ok,
    refused,
    tipsPerSecond: ok / seconds,
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    serverCpuPerTip: serverCpu / ok,
    pgCpuPerTip: pgCpu / ok,
  };
}

function printTable(rows: Awaited<ReturnType<typeof scenario>>[]) {
  console.log(`\nbench:ledger — ${TIPS_PER_SCENARIO} tips per scenario, ${IN_FLIGHT} in flight, 10 streamers\n`);
  console.log('| wallets | tips/s | p50 ms | p95 ms | p99 ms | server CPU µs/tip | PostgreSQL CPU µs/tip | refused |');
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${r.wallets} | ${r.tipsPerSecond.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.serverCpuPerTip.toFixed(0)} | ${r.pgCpuPerTip.toFixed(0)} | ${r.refused} |`,
    );
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
