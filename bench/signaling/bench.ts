// Signaling benchmark: N simulated clients (socket.io-client, no media) in call rooms of two
// exchanging an offer, an answer and 10 ICE candidates each way, against a real control-plane
// process started here. Reports joins per second, relay latency (client-measured, one hop through
// the server; and the server's own relay histogram), server memory per connection and server CPU
// per relayed message. Not a test: nothing here asserts a time. See bench/README.md.
//
//   npm run bench:signaling                  # N = 100, 1000, 5000
//   npm run bench:signaling -- 100 2000      # other sizes
//   BENCH_PAIRS_PER_SECOND=200 npm run bench:signaling
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { io, type Socket } from 'socket.io-client';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const SECRET = 'bench-access-token-secret-0123456789abcdef';
const CANDIDATES = 10;
const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((n) => n > 0 && n % 2 === 0);
const SIZES = sizes.length > 0 ? sizes : [100, 1000, 5000];
/** Pairs that start their exchange per second (the relay load is 22 messages per pair). */
const PAIRS_PER_SECOND = Number(process.env.BENCH_PAIRS_PER_SECOND ?? 100);
const CONNECT_CONCURRENCY = 100;

interface Server {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), 'ff-bench-'));
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'apps/server/src/bin.ts'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: '0',
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      DEMO_ACCOUNTS: 'false',
      PASSWORD_HASH_COST: '10',
      ACCESS_TOKEN_SECRET: SECRET,
      RATE_LIMIT_PER_MINUTE: '1000000',
      // Thousands of simulated users sign up and connect from 127.0.0.1.
      REGISTRATIONS_PER_IP_PER_HOUR: '1000000',
      SIGNALING_MAX_CONNECTIONS_PER_IP: '1000000',
      // One client process simulates thousands of users and is itself the busiest process: give its
      // heartbeats slack so an overloaded load generator is not mistaken for dead clients.
      SIGNALING_PING_TIMEOUT_MS: '30000',
      ...(process.env.BENCH_REDIS_URL
        ? { REDIS_URL: process.env.BENCH_REDIS_URL, REDIS_KEY_PREFIX: `ffbench:${process.pid}:` }
        : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  process.once('exit', () => child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const url = /FusionFlow is running at (http:\/\/\S+)/.exec(out)?.[1];
    if (url) {
      return {
        url,
        child,
        stop: async () => {
          child.kill('SIGTERM');
          await new Promise((resolve) => child.once('exit', resolve));
          rmSync(dataDir, { recursive: true, force: true });
        },
      };
    }
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server did not start:\n${out}`);
    await sleep(100);
  }
}

async function token(userId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: 'viewer', name: userId, lang: 'en' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(userId)
    .setIssuer('fusionflow-control')
    .setAudience('fusionflow-api')
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(new TextEncoder().encode(SECRET));
}

async function http(url: string, method: string, path: string, body?: unknown, bearer?: string) {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.headers.get('content-type')?.includes('json') ? res.json() : res.text();
}

/** Selected values from the server's /metrics. */
async function serverMetrics(url: string) {
  const text = (await http(url, 'GET', '/metrics')) as string;
  const value = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
  const buckets = [...text.matchAll(/^signaling_relay_seconds_bucket\{le="([^"]+)"\} (\S+)$/gm)].map((m) => ({
    le: m[1] === '+Inf' ? Infinity : Number(m[1]),
    count: Number(m[2]),
  }));
  return {
    rss: value('process_resident_memory_bytes'),
    heap: value('nodejs_heap_size_used_bytes'),
    cpu: value('process_cpu_seconds_total'),
    relayCount: value('signaling_relay_seconds_count'),
    buckets,
  };
}

/** Upper bound of the histogram bucket holding quantile q. */
function bucketQuantile(buckets: { le: number; count: number }[], q: number): number {
  const total = buckets.at(-1)?.count ?? 0;
  return buckets.find((b) => b.count >= q * total)?.le ?? NaN;
}

async function withTimeout<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what} did not finish within ${ms} ms (disconnects: ${disconnects.length})`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

interface Client {
  socket: Socket;
  peerId?: string;
  other?: string;
  initiator?: boolean;
}

const disconnects: string[] = [];

async function connectAll(url: string, n: number): Promise<Client[]> {
  const clients: Client[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const socket = io(url, {
        path: '/socket.io',
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        auth: { token: await token(`bench-${i}`), protocol: 1 },
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      socket.on('disconnect', (reason) => {
        disconnects.push(reason);
      });
      clients[i] = { socket };
    }
  };
  await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker));
  return clients;
}

async function run(n: number) {
  const server = await startServer();
  try {
    const { url } = server;
    const owner = (await http(url, 'POST', '/api/auth/register', {
      email: `owner-${n}@bench.test`,
      password: 'bench password',
      displayName: 'Bench',
    })) as { accessToken: string };
    const rooms: string[] = [];
    for (let i = 0; i < n / 2; i++) {
      rooms.push(
        (
          (await http(url, 'POST', '/api/rooms', { kind: 'call', title: `bench ${i}` }, owner.accessToken)) as {
            id: string;
          }
        ).id,
      );
    }
    await sleep(500);
    const idle = await serverMetrics(url);

    const connectStart = performance.now();
    const clients = await connectAll(url, n);
    const connectSeconds = (performance.now() - connectStart) / 1000;

    // Join: everyone at once; the second of each pair is the newcomer (the initiator).
    const joinStart = performance.now();
    await withTimeout(
      'joins',
      Promise.all(
        clients.map(
          (c, i) =>
            new Promise<void>((resolve, reject) => {
              c.socket.once('joined', (msg: { self: { peerId: string } }) => {
                c.peerId = msg.self.peerId;
                resolve();
              });
              c.socket.once('error', (e: unknown) => reject(new Error(JSON.stringify(e))));
              c.socket.emit('join', { roomId: rooms[Math.floor(i / 2)] });
            }),
        ),
      ),
      180_000,
    );
    const joinSeconds = (performance.now() - joinStart) / 1000;
    if (disconnects.length > 0) console.log(`  N=${n}: ${disconnects.length} disconnects (${disconnects[0]})`);
    for (let i = 0; i < n; i += 2) {
      const a = clients[i]!;
      const b = clients[i + 1]!;
      a.other = b.peerId;
      b.other = a.peerId;
      b.initiator = true;
    }
    await sleep(1000);
    const joined = await serverMetrics(url);

    // Exchange: per pair, offer → answer + 10 candidates each way; latency from the send stamp.
    const latencies: number[] = [];
    const expected = (n / 2) * (2 + 2 * CANDIDATES);
    let received = 0;
    let allDone: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      allDone = resolve;
    });
    const candidate = (i: number) => ({
      candidate: `candidate:${i} 1 udp 2122260223 127.0.0.1 ${50000 + i} typ host t=${performance.now()}`,
      sdpMid: '0',
      sdpMLineIndex: 0,
    });
    const sdp = (what: string) => `v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=${what}\r\nt=${performance.now()}\r\n`;
    for (const c of clients) {
      c.socket.on(
        'signal',
        (msg: { kind: string; payload: { sdp?: string; candidate?: { candidate: string } | null } }) => {
          const text = msg.payload.sdp ?? msg.payload.candidate?.candidate ?? '';
          const sent = Number(/t=([\d.]+)/.exec(text)?.[1]);
          latencies.push(performance.now() - sent);
          if (msg.kind === 'offer') {
            c.socket.emit('signal', { to: c.other, kind: 'answer', payload: { sdp: sdp('answer'), session: 's' } });
            for (let k = 0; k < CANDIDATES; k++) {
              c.socket.emit('signal', {
                to: c.other,
                kind: 'candidate',
                payload: { session: 's', candidate: candidate(k) },
              });
            }
          } else if (msg.kind === 'answer') {
            for (let k = 0; k < CANDIDATES; k++) {
              c.socket.emit('signal', {
                to: c.other,
                kind: 'candidate',
                payload: { session: 's', candidate: candidate(k) },
              });
            }
          }
          if (++received === expected) allDone();
        },
      );
    }
    const exchangeStart = performance.now();
    const initiators = clients.filter((c) => c.initiator);
    const interval = 1000 / PAIRS_PER_SECOND;
    for (let i = 0; i < initiators.length; i++) {
      const c = initiators[i]!;
      c.socket.emit('signal', { to: c.other, kind: 'offer', payload: { sdp: sdp('offer'), session: 's' } });
      const due = exchangeStart + (i + 1) * interval;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await Promise.race([done, sleep(120_000)]);
    const exchangeSeconds = (performance.now() - exchangeStart) / 1000;
    const after = await serverMetrics(url);
    latencies.sort((a, b) => a - b);

    for (const c of clients) c.socket.close();
    disconnects.length = 0;
    const relayed = after.relayCount - joined.relayCount;
    return {
      n,
      connectPerSecond: n / connectSeconds,
      joinsPerSecond: n / joinSeconds,
      received,
      expected,
      relayPerSecond: relayed / exchangeSeconds,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      serverP50: bucketQuantile(after.buckets, 0.5) * 1000,
      serverP99: bucketQuantile(after.buckets, 0.99) * 1000,
      rssPerConnection: (joined.rss - idle.rss) / n,
      heapPerConnection: (joined.heap - idle.heap) / n,
      cpuMicrosPerRelay: ((after.cpu - joined.cpu) / relayed) * 1e6,
    };
  } finally {
    await server.stop();
  }
}

const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '—');
console.log(
  `signaling benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ` +
    `${PAIRS_PER_SECOND} pairs/s start their exchange${process.env.BENCH_REDIS_URL ? ', Redis adapter and store' : ', in-memory'}`,
);
const rows: string[] = [];
for (const n of SIZES) {
  const r = await run(n);
  if (r.received !== r.expected) console.log(`  N=${n}: only ${r.received} of ${r.expected} signals arrived`);
  rows.push(
    `| ${r.n} | ${fmt(r.connectPerSecond, 0)} | ${fmt(r.joinsPerSecond, 0)} | ${fmt(r.relayPerSecond, 0)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ≤ ${fmt(r.serverP50, 2)} | ≤ ${fmt(r.serverP99, 2)} | ${fmt(r.rssPerConnection / 1024)} | ${fmt(r.heapPerConnection / 1024)} | ${fmt(r.cpuMicrosPerRelay, 0)} |`,
  );
  console.log(`  N=${n} done`);
}
console.log(
  [
    '',
    '| N | connects/s | joins/s | relays/s | relay p50 ms | relay p99 ms | server p50 ms | server p99 ms | RSS KiB/conn | heap KiB/conn | server CPU µs/relay |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n'),
);
