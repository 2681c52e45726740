// npm run bench:sfu — SFU forwarding cost and loss for N subscribers (see bench/README.md).
// One werift publisher (this process) sends 2.5 Mbit/s of VP8-shaped RTP (250 packets/s of
// 1,250 bytes) to the SFU (its own process, the built apps/sfu/dist/bin.js); N subscribers run
// in a third process. For each N the SFU's CPU time is read from /proc during a measurement window.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { signInternalRequest } from '@fusionflow/kit';
import { GRANT_AUDIENCE, GRANT_ISSUER } from '@fusionflow/protocol';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createPublisherPeer, exchange, nowMs, payload, RtpHeader, RtpPacket, sendTimeToRtp } from './peers.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const SIZES = (process.env.BENCH_N ?? '1,10,50,100,200').split(',').map(Number);
const PPS = 250;
const PAYLOAD = 1250; // + 12-byte header ≈ 2.5 Mbit/s at 250 packets/s
const WARMUP_MS = 3000;
const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 10_000);
const DRAIN_MS = 1500;
const CLK_TCK = 100;
const ADMIN_SECRET = randomBytes(24).toString('base64url');
/**
 * BENCH_RECORD=1: the broadcast is recorded (the publisher's grant names a recording, as the control plane's
 * does for a room with record on), to measure what recording adds. Viewers then play with a shared token.
 */
const RECORD = process.env.BENCH_RECORD === '1';
const recording = RECORD
  ? await (async () => {
      const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'EdDSA' };
      const grant = await new SignJWT({
        room: 'bench',
        role: 'publish',
        rec: { id: 'bench_recording', format: 'webm' },
      })
        .setProtectedHeader({ alg: 'EdDSA', kid: 'bench' })
        .setIssuer(GRANT_ISSUER)
        .setAudience(GRANT_AUDIENCE)
        .setSubject('bench-publisher')
        .setIssuedAt()
        .setJti(randomBytes(8).toString('hex'))
        .setExpirationTime('2h')
        .sign(privateKey);
      const viewerToken = randomBytes(24).toString('base64url');
      process.env.BENCH_VIEWER_TOKEN = viewerToken;
      const dir = mkdtempSync(join(tmpdir(), 'ff-bench-recordings-'));
      return {
        grant,
        env: { JWKS: JSON.stringify({ keys: [jwk] }), AUTH_TOKEN: viewerToken, RECORDINGS_DIR: dir },
        dir,
      };
    })()
  : undefined;

/**
 * BENCH_RELAY=1: two SFU nodes (two processes, as two workers of one machine are): the publisher on the origin with
 * BENCH_ORIGIN_VIEWERS of the viewers (default 0, the origin kept free for its publisher), the rest on the edge, fed
 * through one relay. SFU CPU, memory and forwarded packets are both processes' sums.
 */
const ORIGIN_VIEWERS = Number(process.env.BENCH_ORIGIN_VIEWERS ?? 0);
const RELAY = process.env.BENCH_RELAY === '1';
const grants = RELAY
  ? await (async () => {
      const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'EdDSA' };
      const sign = (claims: Record<string, unknown>) =>
        new SignJWT({ room: 'bench', ...claims })
          .setProtectedHeader({ alg: 'EdDSA', kid: 'bench' })
          .setIssuer(GRANT_ISSUER)
          .setAudience(GRANT_AUDIENCE)
          .setSubject(`bench-${randomBytes(4).toString('hex')}`)
          .setIssuedAt()
          .setJti(randomBytes(8).toString('hex'))
          .setExpirationTime('2h')
          .sign(privateKey);
      return { env: { JWKS: JSON.stringify({ keys: [jwk] }) }, sign };
    })()
  : undefined;

/** The SFU's own log of the last run, for when a number looks wrong. */
const SFU_LOG = join(tmpdir(), 'fusionflow-bench-sfu.log');
const sfuLog = createWriteStream(SFU_LOG);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resident memory of a process, in KiB (VmRSS from /proc). */
function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime + stime
}

async function startSfu(extra: Record<string, string> = {}): Promise<{ child: ChildProcess; url: string }> {
  // BENCH_SFU_PROFILE=<dir>: the SFU writes a V8 CPU profile there when it exits (open it in Chrome's DevTools).
  const profile = process.env.BENCH_SFU_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SFU_PROFILE}`]
    : [];
  // BENCH_SFU_HEAPSNAPSHOT=<dir>: the SFU writes a heap snapshot there with the publisher alone and at each N
  // (bench/sfu/heap-summary.ts sums them by constructor).
  const snapshots = process.env.BENCH_SFU_HEAPSNAPSHOT
    ? ['--heapsnapshot-signal=SIGWINCH', `--diagnostic-dir=${process.env.BENCH_SFU_HEAPSNAPSHOT}`]
    : [];
  // BENCH_SFU_BIN: another build of the SFU to measure (e.g. a copy of apps/sfu/dist made before a change).
  const bin = process.env.BENCH_SFU_BIN ?? join(root, 'apps/sfu/dist/bin.js');
  // BENCH_SFU_NODE_ARGS: extra Node options for the SFU (e.g. --max-semi-space-size=4), space-separated.
  const nodeArgs = (process.env.BENCH_SFU_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, ...profile, ...snapshots, bin], {
    env: {
      PATH: process.env.PATH,
      SFU_PORT: '0',
      LOG_LEVEL: 'info',
      ICE_ADDRESSES: '127.0.0.1',
      ICE_ONLY_ADDRESSES: 'true',
      SFU_RATE_LIMIT_PER_MINUTE: '100000',
      ICE_DISCONNECT_GRACE_SECONDS: '300',
      MAX_SUBSCRIBERS_PER_ROOM: '10000',
      // The admission budget is off unless asked for (BENCH_MAX_VIEWERS): the benchmark measures the media path.
      SFU_MAX_VIEWERS: process.env.BENCH_MAX_VIEWERS ?? '0',
      INTERNAL_SECRET: ADMIN_SECRET,
      ...recording?.env,
      ...grants?.env,
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (c) => reject(new Error(`SFU exited (${c})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      sfuLog.write(`${line}\n`);
      const m = /"url":"([^"]+)"/.exec(line);
      if (m && line.includes('SFU is running')) resolve(m[1]!);
    });
  });
  return { child, url };
}

/** Ask the SFU for a heap snapshot (it blocks while writing it) and print its memory at that point. */
async function heapSnapshot(child: ChildProcess, n: number): Promise<void> {
  const dir = process.env.BENCH_SFU_HEAPSNAPSHOT!;
  const before = new Set(readdirSync(dir));
  child.kill('SIGWINCH'); // not SIGUSR2: that drains the SFU
  for (;;) {
    await sleep(500);
    const fresh = readdirSync(dir).filter((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    // Written once its size stops changing.
    if (fresh.length > 0) {
      const file = join(dir, fresh[0]!);
      const size = statSync(file).size;
      await sleep(1000);
      if (statSync(file).size === size && size > 0) {
        console.log(`N=${n} heap snapshot ${file}; SFU RSS ${rssKiB(child.pid!)} KiB`);
        return;
      }
    }
  }
}

/** The SFU's memory by kind (its Prometheus default metrics), in KiB: where its RSS goes. */
async function sfuMemory(url: string): Promise<string> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const kib = (re: RegExp) => Math.round(Number(re.exec(text)?.[1] ?? Number.NaN) / 1024);
  const space = (name: string, what: 'total' | 'used') =>
    kib(new RegExp(`^nodejs_heap_space_size_${what}_bytes\\{[^}]*space="${name}"[^}]*\\} (\\d+)`, 'm'));
  return (
    `rss ${kib(/^process_resident_memory_bytes (\d+)/m)} KiB: heap total ${kib(/^nodejs_heap_size_total_bytes (\d+)/m)}` +
    ` (used ${kib(/^nodejs_heap_size_used_bytes (\d+)/m)}; new space ${space('new', 'total')}, old space ${space('old', 'total')}` +
    ` used ${space('old', 'used')}), external ${kib(/^nodejs_external_memory_bytes (\d+)/m)}`
  );
}

async function forwardedBySfu(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^live_rtp_forwarded_packets_total\{room="bench"\} (\d+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

function ask<T>(child: ChildProcess, msg: object, reply: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const on = (m: { type: string; message?: string }) => {
      if (m.type === reply) {
        child.off('message', on);
        resolve(m as T);
      } else if (m.type === 'error') {
        child.off('message', on);
        reject(new Error(m.message));
      }
    };
    child.on('message', on);
    child.send(msg);
  });
}

async function main(): Promise<void> {
  // The SFU logs at warn, so the "running" line must be info: start it at info for the URL only.
  const sfu = await startSfuInfo();
  const edge = grants ? await startSfu({ SFU_NODE_ID: 'bench-edge' }) : undefined;
  /** Where the viewers play: the edge with BENCH_RELAY, else the one SFU. */
  const viewed = edge ?? sfu;
  const pub = createPublisherPeer();
  await exchange(
    `${sfu.url}/api/whip/publish/bench`,
    pub.pc,
    recording?.grant ?? (await grants?.sign({ role: 'publish' })),
  );
  while (pub.pc.connectionState !== 'connected') await sleep(50);

  // Publisher: 250 packets/s, a keyframe every 2 s and when the SFU asks (PLI), as an encoder
  // does; the RTP timestamp carries the send time.
  let keyNext = false;
  pub.pc.getTransceivers()[0]!.sender.onPictureLossIndication.subscribe(() => {
    keyNext = true;
  });
  let seq = 0;
  let n = 0;
  const sent: number[] = [];
  const interval = setInterval(() => {
    // Timers are coarse: send what is due, so the rate holds at 250/s.
    const due = Math.floor(((nowMs() - started) / 1000) * PPS) - n;
    for (let i = 0; i < due; i++) {
      const t = nowMs();
      const header = new RtpHeader({ sequenceNumber: seq, timestamp: sendTimeToRtp(t), marker: true, payloadType: 96 });
      seq = (seq + 1) & 0xffff;
      pub.video.writeRtp(new RtpPacket(header, payload(keyNext || n % (PPS * 2) === 0, PAYLOAD)));
      keyNext = false;
      sent.push(t);
      n++;
    }
  }, 4);
  const started = nowMs();

  const subscribers = fork(join(here, 'subscribers.ts'), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise((r) => subscribers.once('message', r));
  if (process.env.BENCH_SFU_HEAPSNAPSHOT) await heapSnapshot(sfu.child, 0);

  const rows: {
    n: number;
    usPerPacket: number;
    loss: number;
    p50: number;
    p95: number;
    p99: number;
    cpu: number;
    rss: number;
  }[] = [];
  for (const size of SIZES) {
    const onOrigin = edge ? Math.min(size, ORIGIN_VIEWERS) : 0;
    if (onOrigin > 0 && grants) {
      const local = await Promise.all(Array.from({ length: onOrigin }, () => grants.sign({ role: 'subscribe' })));
      const msg = { type: 'connect', url: `${sfu.url}/api/whep/play/bench`, n: onOrigin, tokens: local };
      await ask(subscribers, msg, 'connected');
    }
    const tokens = grants
      ? await Promise.all(
          Array.from({ length: size - onOrigin }, () =>
            grants.sign({ role: 'subscribe', relay: { node: 'bench-origin', url: sfu.url } }),
          ),
        )
      : undefined;
    const onViewed = { type: 'connect', url: `${viewed.url}/api/whep/play/bench`, n: size - onOrigin, tokens };
    if (size - onOrigin > 0) await ask(subscribers, onViewed, 'connected');
    await sleep(WARMUP_MS);
    const from = nowMs();
    const forwardedNow = async () =>
      (await forwardedBySfu(viewed.url)) + (edge && onOrigin > 0 ? await forwardedBySfu(sfu.url) : 0);
    const sent0 = await forwardedNow();
    const originCpu0 = cpuSeconds(sfu.child.pid!);
    const cpu0 = originCpu0 + (edge ? cpuSeconds(edge.child.pid!) : 0);
    await sleep(WINDOW_MS);
    const originCpu1 = cpuSeconds(sfu.child.pid!);
    const cpu1 = originCpu1 + (edge ? cpuSeconds(edge.child.pid!) : 0);
    const rss = rssKiB(viewed.child.pid!) + (edge ? rssKiB(sfu.child.pid!) : 0);
    const sent1 = await forwardedNow();
    const memory = await sfuMemory(viewed.url);
    if (edge) {
      console.log(
        `  relay: origin CPU ${((100 * (originCpu1 - originCpu0)) / (WINDOW_MS / 1000)).toFixed(1)}% (the publisher, its viewers and one relay), edge CPU ${((100 * (cpu1 - cpu0 - (originCpu1 - originCpu0))) / (WINDOW_MS / 1000)).toFixed(1)}%`,
      );
    }
    const to = nowMs();
    await sleep(DRAIN_MS);
    if (process.env.BENCH_SFU_HEAPSNAPSHOT) await heapSnapshot(sfu.child, size);
    const stats = await ask<{ counts: number[]; p50: number; p95: number; p99: number }>(
      subscribers,
      { type: 'window', from, to },
      'window',
    );
    const expected = sent.filter((t) => t >= from && t < to).length;
    const received = stats.counts.reduce((a, b) => a + b, 0);
    const forwarded = expected * size;
    const loss = forwarded > 0 ? Math.max(0, 1 - received / forwarded) : 0;
    // What the SFU itself sent in the window (its counter), to tell SFU loss from receiver loss.
    const sfuSent = sent1 - sent0;
    const cpu = cpu1 - cpu0;
    const usPerPacket = (cpu * 1e6) / Math.max(1, forwarded);
    rows.push({
      n: size,
      usPerPacket,
      loss,
      p50: stats.p50,
      p95: stats.p95,
      p99: stats.p99,
      cpu: cpu / (WINDOW_MS / 1000),
      rss,
    });
    console.log(
      `N=${String(size).padStart(3)}  ${usPerPacket.toFixed(1).padStart(6)} µs/packet  SFU CPU ${((100 * cpu) / (WINDOW_MS / 1000)).toFixed(0).padStart(3)}%  loss ${(loss * 100).toFixed(2)}% (SFU sent ${((100 * sfuSent) / Math.max(1, forwarded)).toFixed(1)}% of expected)  latency p50 ${stats.p50.toFixed(1)} ms p95 ${stats.p95.toFixed(1)} ms p99 ${stats.p99.toFixed(1)} ms`,
    );
    console.log(`  SFU memory: ${memory}`);
    if (loss >= 0.01) {
      // Where did it go? Packets the SFU sent to each subscriber so far, and their ICE states.
      const res = await fetch(`${viewed.url}/api/admin/rooms`, {
        headers: signInternalRequest(ADMIN_SECRET, 'GET', '/api/admin/rooms', ''),
      });
      const body = (await res.json()) as {
        rooms: { subscribers: { state: string; packetsSent?: number; packetsDropped?: number }[] }[];
      };
      const subs = body.rooms[0]?.subscribers ?? [];
      console.log(
        `  per subscriber (sent/dropped/state): ${subs.map((x) => `${x.packetsSent}/${x.packetsDropped}/${x.state}`).join(' ')}`,
      );
    }
    await ask(subscribers, { type: 'close', base: viewed.url }, 'closed');
    await sleep(1000);
  }

  clearInterval(interval);
  subscribers.kill();
  await pub.pc.close();
  for (const p of edge ? [edge, sfu] : [sfu]) {
    p.child.kill('SIGTERM');
    const exited = new Promise((r) => p.child.once('exit', r));
    if (!(await Promise.race([exited.then(() => true), sleep(12_000).then(() => false)]))) p.child.kill('SIGKILL');
  }

  const ok = rows.filter((r) => r.loss < 0.01);
  const best = ok.at(-1);
  // The capacity estimate comes from the largest N that forwarded everything: a row with loss did less work than asked.
  const largest = best ?? rows.at(-1)!;
  const perCore = 1e6 / (largest.usPerPacket * PPS);
  console.log(
    '\n| N | SFU µs per forwarded packet | marginal µs per added packet | SFU CPU (one core = 100%) | loss | latency p50 / p95 / p99 | SFU RSS MiB | marginal KiB per added subscriber |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  rows.forEach((r, i) => {
    const prev = rows[i - 1];
    // CPU added per packet added since the previous N: the cost of one more subscriber's packet.
    const marginal = prev ? ((r.cpu - prev.cpu) * 1e6) / ((r.n - prev.n) * PPS) : Number.NaN;
    // Memory added per subscriber added since the previous N (sessions, down-tracks, sockets, buffers).
    const memory = prev ? (r.rss - prev.rss) / (r.n - prev.n) : Number.NaN;
    console.log(
      `| ${r.n} | ${r.usPerPacket.toFixed(1)} | ${Number.isNaN(marginal) ? '—' : marginal.toFixed(1)} | ${(r.cpu * 100).toFixed(0)}% | ${(r.loss * 100).toFixed(2)}% | ${r.p50.toFixed(1)} / ${r.p95.toFixed(1)} / ${r.p99.toFixed(1)} ms | ${(r.rss / 1024).toFixed(0)} | ${Number.isNaN(memory) ? '—' : memory.toFixed(0)} |`,
    );
  });
  console.log(`SFU log: ${SFU_LOG}`);
  if (recording) {
    const file = join(recording.dir, 'bench_recording.webm');
    console.log(`recorded: ${file} (${statSync(file).size} bytes)`);
    rmSync(recording.dir, { recursive: true, force: true });
  }
  console.log(
    `\nLargest N measured with < 1% loss: ${best ? best.n : 'none'} (the SFU is one Node process: one core).` +
      `\nAt ${largest.usPerPacket.toFixed(1)} µs per forwarded packet one core forwards 2.5 Mbit/s to about ${Math.floor(perCore)} subscribers (N = ${largest.n}).`,
  );
  process.exit(0);
}

async function startSfuInfo() {
  return startSfu(grants ? { SFU_NODE_ID: 'bench-origin' } : {});
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
