// The chat benchmark (issue 5): one live room with many members reading different languages, messages
// at a steady rate, delivery latency of originals and translations, translation engine requests per
// message and the server's CPU time per message. bench/chat/bench.ts runs it from the command line;
// bench/README.md explains the method and records the numbers.
//
// Processes: this one is the server (createPlatform, in-process, so its CPU time is process.cpuUsage()
// and the translator's request counter is read directly); the simulated members live in client
// processes (clients.ts); the engine is Apertium APy (its own process group) behind a
// LibreTranslate-compatible server in another process (libretranslate.ts), or APy directly.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type ServerConfig, testServerConfig } from '../../apps/server/src/config.js';
import type { DatabaseHandle } from '../../apps/server/src/db/database.js';
import { createPlatform, type Platform } from '../../apps/server/src/main.js';
import { type Apertium, startApertium } from '../../apps/server/src/modules/chat/test-apertium.js';
import { processCpuMicros } from '../lib/stats.js';
import type { ChildMessage, MemberSpec, ParentMessage, PhasePlan, PhaseResult } from './ipc.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));
const PASSWORD = 'chat bench password';

export type ChatBenchEngine = 'libretranslate' | 'apertium' | 'none';

export interface ChatBenchOptions {
  /** Room members, senders included. */
  members: number;
  /** Messages per second over all senders. */
  rate: number;
  /** Length of the measured window. */
  seconds: number;
  /** Messages at the same rate before the window (JIT, APy's pipelines, caches of rooms and settings). */
  warmupSeconds: number;
  /** Languages the readers read, spread evenly. */
  languages: string[];
  /** One sender per entry, writing (and reading) in that language. */
  senderLanguages: string[];
  engine: ChatBenchEngine;
  /** Client processes the members are spread over (the senders are all in the first). */
  clientProcesses: number;
  /** After the last send, how long to wait for every delivery. */
  drainSeconds: number;
  /**
   * How long to measure the server's CPU with everyone connected and nothing sent (default 10 s: one
   * heartbeat interval, as the members' pings come in bursts; 0 skips it).
   */
  idleSeconds?: number;
  /** Write a CPU profile of the server during the window here (and of the client processes at exit). */
  profileDir?: string;
  /** A database to use (tests); by default a fresh embedded PGlite in a temporary directory. */
  database?: DatabaseHandle;
  logLevel?: ServerConfig['logLevel'];
  /** CHAT_BATCH_MS of the server (default: the production default, 100). */
  batchMs?: number;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
}

export interface Latency {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface PhaseSummary {
  messages: number;
  /** Achieved send rate (messages ÷ time from the first send to the last). */
  sendRate: number;
  /** Sends more than one interval late (the client process was behind). */
  lateSends: number;
  /** First send → last delivery (or the drain timeout). */
  wallSeconds: number;
  /** Every expected event arrived before the drain timeout. */
  complete: boolean;
  originals: Latency & { expected: number; duplicates: number };
  translations: { expected: number; received: number; duplicates: number; wrongLanguage: number; unchanged: number };
  translationsOk: Latency;
  translationsOther: Latency;
  translationStatus: Record<string, number>;
  acks: Latency & { errors: Record<string, number> };
  /**
   * Inside the server: send time → the broadcast handed to every member's socket (one sample per
   * message), and → each language's translation handed to its readers (one per message and language).
   * Tells the server's own delay from the client processes'.
   */
  serverOriginals: Latency;
  serverTranslations: Latency;
  stray: number;
  clientErrors: Record<string, number>;
  disconnects: number;
  /** Distinct languages other than the source's that readers read, averaged over the messages. */
  targetLanguagesPerMessage: number;
  engineRequests: number;
  engineRequestsPerMessage: number;
  /** The server's translator outcomes (from /metrics) during the phase. */
  translatorOutcomes: Record<string, number>;
  cacheHits: number;
  cacheMisses: number;
  /** Mean time of one engine request, as the server measured it. */
  engineRequestMeanMs: number;
  serverCpuMs: number;
  serverCpuMsPerMessage: number;
  /** Server CPU per event delivered to a member (originals + translations). */
  serverCpuMicrosPerDelivery: number;
  /** Share of one core. */
  serverCpuShare: number;
  clientCpuMs: number;
  /** APy (all its pipelines) and the LibreTranslate-compatible server. */
  engineCpuMs: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  /** Mean latency (ms) of the messages sent in each quarter of the phase: does it grow? */
  trend: { originals: number[]; translations: number[] };
  samples: PhaseResult['samples'];
}

export interface ChatBenchResult {
  machine: { cores: number; cpu: string; node: string };
  /** The machine's 1-minute load average when the window started and when it ended (other work on it). */
  loadAverage: { start: number; end: number };
  engine: ChatBenchEngine;
  members: number;
  membersByLanguage: Record<string, number>;
  senders: number;
  senderLanguages: string[];
  rate: number;
  seconds: number;
  warmupSeconds: number;
  clientProcesses: number;
  connectSeconds: number;
  joinSeconds: number;
  join: Latency;
  joinFailures: string[];
  joinProfile?: string;
  /** Server CPU with every member connected and nothing sent (heartbeats), ms per second. */
  idleServerCpuMsPerSecond: number;
  warmup: PhaseSummary;
  window: PhaseSummary;
  profile?: string;
}

// --- helpers ---------------------------------------------------------------------------------------

const now = () => performance.timeOrigin + performance.now();
const base = (language: string) => language.split('-')[0] ?? language;

/** Nearest-rank percentiles of samples (as bench/lib/stats.ts computes them). */
function latency(parts: Float32Array[]): Latency {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Float64Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  all.sort();
  const q = (p: number) =>
    total === 0 ? Number.NaN : all[Math.min(total - 1, Math.max(0, Math.ceil((p / 100) * total) - 1))]!;
  return { count: total, p50: q(50), p95: q(95), p99: q(99), max: total === 0 ? Number.NaN : all[total - 1]! };
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Databases of earlier runs whose process is gone. The exit handler removes this run's, but a Ctrl-C
 * at the wrong moment has been seen to leave it behind.
 */
function removeStaleDataDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = /^ff-bench-chat-(\d+)-/.exec(name)?.[1];
    if (pid && !alive(Number(pid))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/** CPU time of every process in a process group (APy and the apertium pipelines it started), µs. */
function groupCpuMicros(pgid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) total += processCpuMicros(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (samples: Sample[], name: string, where: Record<string, string> = {}) =>
  samples
    .filter((s) => s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

async function api<T>(url: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Start profiling this process (the server); the returned function stops and writes the profile. */
async function startProfile(dir: string): Promise<(name: string) => Promise<string>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async (name) => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `chat-server-${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
    writeFileSync(path, JSON.stringify(profile));
    return path;
  };
}

/** Mean of per-message latency sums over `slices` equal runs of messages. */
function trend(sums: Float64Array[], counts: Uint32Array[], slices: number): number[] {
  const n = sums[0]?.length ?? 0;
  return Array.from({ length: slices }, (_, i) => {
    let total = 0;
    let count = 0;
    for (let k = Math.floor((i * n) / slices); k < Math.floor(((i + 1) * n) / slices); k++) {
      for (const s of sums) total += s[k]!;
      for (const c of counts) count += c[k]!;
    }
    return count > 0 ? total / count : Number.NaN;
  });
}

/**
 * Watches the server's broadcasts from inside (the server runs in this process): when each message's
 * `chat:message` and each `chat:translation` were handed to the members' sockets, against the send
 * time in the clientId. Wraps two methods of the gateway instance; the server's code is unchanged.
 */
class HandoffRecorder {
  #tag = '';
  #sent = new Map<string, number>();
  /** Translations handed off before their message was (it waited in the room's batch): handoff times. */
  #early = new Map<string, number[]>();
  originals: number[] = [];
  translations: number[] = [];

  constructor(gateway: Platform['services']['realtime']) {
    const toRoom = gateway.emitToRoom.bind(gateway);
    const toLanguage = gateway.emitToRoomLanguage.bind(gateway);
    type Msg = { id: string; clientId: string };
    type Tr = { messageId: string };
    const original = (body: Msg) => {
      const m = /^([A-Za-z]+)-(\d+)-(\d+)$/.exec(body.clientId);
      if (!m || m[1] !== this.#tag) return;
      const sent = Number(m[3]) / 1000;
      this.#sent.set(body.id, sent);
      this.originals.push(now() - sent);
      for (const at of this.#early.get(body.id) ?? []) this.translations.push(at - sent);
      this.#early.delete(body.id);
    };
    const translation = (body: Tr) => {
      const sent = this.#sent.get(body.messageId);
      if (sent !== undefined) this.translations.push(now() - sent);
      else this.#early.set(body.messageId, [...(this.#early.get(body.messageId) ?? []), now()]);
    };
    gateway.emitToRoom = (roomId, name, body, except) => {
      toRoom(roomId, name, body, except);
      if (name === 'chat:message') original(body as Msg);
      else if (name === 'chat:batch') for (const m of (body as { messages: Msg[] }).messages) original(m);
    };
    gateway.emitToRoomLanguage = (roomId, language, name, body) => {
      toLanguage(roomId, language, name, body);
      if (name === 'chat:translation') translation(body as Tr);
      else if (name === 'chat:batch') for (const t of (body as { translations: Tr[] }).translations) translation(t);
    };
  }

  /** Record the messages of this phase from now on. */
  start(tag: string): void {
    this.#tag = tag;
    this.#sent.clear();
    this.#early.clear();
    this.originals = [];
    this.translations = [];
  }
}

/** A child process of the benchmark (TypeScript through tsx, IPC with structured clone). */
function forkTs(script: string, args: string[], execArgv: string[] = []): ChildProcess {
  return fork(join(here, script), args, {
    cwd: repoRoot,
    execArgv: ['--conditions=source', '--import', 'tsx', ...execArgv],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** A client process and its message inbox. */
class ClientProcess {
  readonly child: ChildProcess;
  readonly #inbox: ChildMessage[] = [];
  readonly #waiters = new Set<{ accept: (m: ChildMessage) => boolean; fail: (err: Error) => void }>();
  #gone: Error | undefined;

  constructor(
    readonly id: number,
    execArgv: string[],
  ) {
    this.child = forkTs('clients.ts', [], execArgv);
    this.child.on('message', (m: ChildMessage) => {
      for (const w of this.#waiters) if (w.accept(m)) return;
      this.#inbox.push(m);
    });
    this.child.on('exit', (code, signal) => {
      this.#gone = new Error(`client process ${id} exited (${signal ?? code})`);
      for (const w of this.#waiters) w.fail(this.#gone);
    });
  }

  post(m: ParentMessage): void {
    if (this.#gone) throw this.#gone;
    this.child.send(m);
  }

  /** The next message of this type (one that came already, or the next to come). */
  next<T extends ChildMessage['type']>(type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> {
    const i = this.#inbox.findIndex((m) => m.type === type);
    if (i >= 0) return Promise.resolve(this.#inbox.splice(i, 1)[0] as Extract<ChildMessage, { type: T }>);
    if (this.#gone) return Promise.reject(this.#gone);
    return new Promise((resolve, reject) => {
      const waiter = {
        accept: (m: ChildMessage) => {
          if (m.type !== type) return false;
          done();
          resolve(m as Extract<ChildMessage, { type: T }>);
          return true;
        },
        fail: (err: Error) => {
          done();
          reject(err);
        },
      };
      const timer = setTimeout(
        () => waiter.fail(new Error(`client process ${this.id}: no "${type}" within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
      };
      this.#waiters.add(waiter);
    });
  }

  /** Forget what came and was not asked for (a late `drained` of an earlier phase). */
  clear(): void {
    this.#inbox.length = 0;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    try {
      this.child.send({ type: 'exit' } satisfies ParentMessage);
    } catch {
      this.child.kill('SIGKILL');
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

// --- the benchmark ---------------------------------------------------------------------------------

export async function runChatBench(o: ChatBenchOptions): Promise<ChatBenchResult> {
  const progress = o.progress ?? (() => undefined);
  const senders = o.senderLanguages.length;
  if (senders < 1) throw new Error('at least one sender');
  if (o.members < senders) throw new Error(`members (${o.members}) must include the ${senders} senders`);
  if (o.languages.length < 1) throw new Error('at least one reader language');

  // Everything started is stopped in reverse order, also on failure; `kill` is the synchronous
  // last resort if the process exits (Ctrl-C) before that.
  const stops: (() => Promise<void>)[] = [];
  const kills = new Set<() => void>();
  const killAll = () => {
    for (const k of kills) {
      try {
        k();
      } catch {}
    }
  };
  process.on('exit', killAll);
  try {
    // client processes, started first (they load while the rest starts); the senders go to the first
    const processes = Math.max(1, Math.min(o.clientProcesses, o.members));
    const clients = Array.from(
      { length: processes },
      (_, i) =>
        new ClientProcess(
          i,
          // Node's default names: the client's main thread and tsx's loader thread each write one.
          o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(o.profileDir, `chat-clients-${i}`)}`] : [],
        ),
    );
    for (const c of clients) {
      kills.add(() => c.child.kill('SIGKILL'));
      stops.push(() => c.stop());
    }
    // the engine
    let apertium: Apertium | undefined;
    let stub: ChildProcess | undefined;
    let translationUrl: string | undefined;
    if (o.engine !== 'none') {
      progress('starting Apertium APy');
      apertium = await startApertium({ timeoutMs: 60_000 });
      const apy = apertium;
      stops.push(() => apy.stop());
      kills.add(() => process.kill(-apy.child.pid!, 'SIGKILL'));
      translationUrl = apy.url;
      if (o.engine === 'libretranslate') {
        const child = forkTs('libretranslate.ts', [apy.url]);
        stub = child;
        kills.add(() => child.kill('SIGKILL'));
        stops.push(async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const exited = new Promise((resolve) => child.once('exit', resolve));
          child.kill('SIGTERM');
          await exited;
        });
        translationUrl = await new Promise<string>((resolve, reject) => {
          child.once('message', (m: { url: string }) => resolve(m.url));
          child.once('exit', (code) => reject(new Error(`the LibreTranslate-compatible server exited (${code})`)));
        });
      }
    }

    // the server, in this process
    progress('starting the server');
    let dataDir: string | undefined;
    if (!o.database) {
      removeStaleDataDirs();
      const dir = mkdtempSync(join(tmpdir(), `ff-bench-chat-${process.pid}-`));
      dataDir = dir;
      kills.add(() => rmSync(dir, { recursive: true, force: true }));
      stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    }
    const platform: Platform = await createPlatform(
      testServerConfig({
        host: '127.0.0.1',
        port: 0,
        ...(dataDir ? { dataDir } : {}),
        logLevel: o.logLevel ?? 'error',
        // the production default (tests turn batching off)
        chatBatchMs: o.batchMs ?? 100,
        rateLimitPerMinute: 1_000_000,
        // thousands of members sign up and connect from 127.0.0.1
        registrationsPerIpPerHour: 1_000_000,
        signalingMaxConnectionsPerIp: 1_000_000,
        // senders send rate ÷ senders messages per second each: well under these
        chatMessagesPer10s: 10_000,
        signalingMessagesPer10s: 100_000,
        // the client processes are the busiest on the machine: late heartbeats are not dead clients
        signalingPingTimeoutMs: 30_000,
        accessTokenTtlSeconds: 86_400,
        translationEngine: o.engine,
        translationUrl,
      }),
      o.database ? { database: o.database } : {},
    );
    stops.push(() => platform.close('benchmark done'));
    const url = await platform.listen();
    const translator = platform.services.translator;
    const handoff = new HandoffRecorder(platform.services.realtime);

    // accounts, the room and the members
    progress(`creating the room, ${senders} senders and ${o.members - senders} guest readers`);
    const streamer = await api<{ accessToken: string }>(url, 'POST', '/api/auth/register', {
      email: 'streamer@chat-bench.test',
      password: PASSWORD,
      displayName: 'Bench streamer',
      role: 'streamer',
    });
    const room = await api<{ id: string }>(
      url,
      'POST',
      '/api/rooms',
      { kind: 'live', title: 'Chat benchmark' },
      streamer.accessToken,
    );
    const specs: MemberSpec[] = [];
    for (let i = 0; i < senders; i++) {
      const language = o.senderLanguages[i]!;
      const account = await api<{ accessToken: string }>(url, 'POST', '/api/auth/register', {
        email: `sender-${i}@chat-bench.test`,
        password: PASSWORD,
        displayName: `Sender ${i} (${language})`,
        language,
      });
      specs.push({ index: i, token: account.accessToken, language, sender: true });
    }
    const readers = o.members - senders;
    const guests: string[] = new Array(readers);
    let nextGuest = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        while (nextGuest < readers) {
          const j = nextGuest++;
          guests[j] = (await api<{ accessToken: string }>(url, 'POST', '/api/auth/guest')).accessToken;
        }
      }),
    );
    for (let j = 0; j < readers; j++) {
      specs.push({
        index: senders + j,
        token: guests[j]!,
        language: o.languages[j % o.languages.length]!,
        sender: false,
      });
    }
    const membersByLanguage: Record<string, number> = {};
    for (const s of specs) membersByLanguage[s.language] = (membersByLanguage[s.language] ?? 0) + 1;

    await Promise.all(clients.map((c) => c.next('ready', 60_000)));
    // readers dealt round-robin
    const share: MemberSpec[][] = clients.map(() => []);
    for (const s of specs) share[s.sender ? 0 : (s.index - senders) % processes]!.push(s);

    progress(`connecting ${o.members} clients`);
    let t = now();
    for (const [i, c] of clients.entries()) c.post({ type: 'setup', url, roomId: room.id, members: share[i]! });
    const connected = await Promise.all(clients.map((c) => c.next('connected', 300_000)));
    const connectSeconds = (now() - t) / 1000;
    const connectFailures = connected.flatMap((c) => c.failures);
    if (connectFailures.length > 0) {
      throw new Error(`${connectFailures.length} clients could not connect: ${connectFailures[0]}`);
    }

    progress(`joining ${o.members} members at once`);
    const stopJoinProfile = o.profileDir ? await startProfile(o.profileDir) : undefined;
    t = now();
    for (const c of clients) c.post({ type: 'join' });
    const joined = await Promise.all(clients.map((c) => c.next('joined', 300_000)));
    const joinSeconds = (now() - t) / 1000;
    const joinProfile = await stopJoinProfile?.('join');
    const joinFailures = joined.flatMap((j) => j.failures);

    // idle: heartbeats of the connected members only
    let idleServerCpuMsPerSecond = Number.NaN;
    const idleSeconds = o.idleSeconds ?? 10;
    if (idleSeconds > 0) {
      // 1–3 s after the joins the server spends another ~0.2 s of CPU (measured): let that pass first
      await sleep(3000);
      const idleCpu = process.cpuUsage();
      const idleStart = now();
      await sleep(idleSeconds * 1000);
      const idleUsed = process.cpuUsage(idleCpu);
      idleServerCpuMsPerSecond = (idleUsed.user + idleUsed.system) / 1000 / ((now() - idleStart) / 1000);
    }

    let textOffset = 0;
    const phase = async (
      tag: string,
      seconds: number,
      profile: boolean,
    ): Promise<PhaseSummary & { profile?: string }> => {
      const count = Math.max(1, Math.round(o.rate * seconds));
      const plan: PhasePlan = {
        tag,
        count,
        rate: o.rate,
        senderLanguages: o.senderLanguages,
        textOffset,
        translates: o.engine !== 'none',
      };
      textOffset += count;
      for (const c of clients) {
        c.clear();
        c.post({ type: 'prepare', plan });
      }
      await Promise.all(clients.map((c) => c.next('prepared', 60_000)));

      const metricsBefore = parseMetrics(await (await fetch(`${url}/metrics`)).text());
      const loop = monitorEventLoopDelay({ resolution: 10 });
      const stopProfile = profile ? await startProfile(o.profileDir!) : undefined;
      loop.enable();
      handoff.start(tag);
      const requestsBefore = translator.engineRequests;
      const engineBefore =
        (apertium ? groupCpuMicros(apertium.child.pid!) : 0) + (stub ? processCpuMicros(stub.pid!) : 0);
      const cpuBefore = process.cpuUsage();
      const start = now();
      clients[0]!.post({ type: 'send' });
      const sent = await clients[0]!.next('sent', (count / o.rate) * 1000 * 3 + 60_000);
      const drained = await Promise.all(
        clients.map((c) =>
          c.next('drained', o.drainSeconds * 1000).then(
            () => true,
            () => false,
          ),
        ),
      );
      const cpuUsed = process.cpuUsage(cpuBefore);
      const wallSeconds = (now() - start) / 1000;
      const engineCpu =
        (apertium ? groupCpuMicros(apertium.child.pid!) : 0) + (stub ? processCpuMicros(stub.pid!) : 0) - engineBefore;
      const engineRequests = translator.engineRequests - requestsBefore;
      loop.disable();
      const profilePath = await stopProfile?.('window');
      const metricsAfter = parseMetrics(await (await fetch(`${url}/metrics`)).text());

      for (const c of clients) c.post({ type: 'finish' });
      const results = (await Promise.all(clients.map((c) => c.next('result', 120_000)))).map((r) => r.result);

      // the languages each message has readers in, other than its own
      const readerLanguages = new Set(specs.map((s) => base(s.language)));
      let targets = 0;
      for (let k = 0; k < count; k++) {
        const source = base(o.senderLanguages[k % senders]!);
        targets += [...readerLanguages].filter((l) => l !== source).length;
      }
      const statuses: Record<string, number> = {};
      const ackErrors: Record<string, number> = {};
      const clientErrors: Record<string, number> = {};
      for (const r of results) {
        addCounts(statuses, r.translationStatus);
        addCounts(ackErrors, r.ackErrors);
        addCounts(clientErrors, r.errors);
      }
      const outcomes: Record<string, number> = {};
      for (const s of metricsAfter.filter((m) => m.name === 'chat_translations_total')) {
        const before = sum(metricsBefore, s.name, s.labels);
        const delta = s.value - before;
        if (delta > 0) outcomes[s.labels.outcome ?? '?'] = (outcomes[s.labels.outcome ?? '?'] ?? 0) + delta;
      }
      const delta = (name: string, where: Record<string, string> = {}) =>
        sum(metricsAfter, name, where) - sum(metricsBefore, name, where);
      const durationCount = delta('chat_translation_duration_seconds_count');
      const originals = latency(results.map((r) => r.originals));
      const translationsOk = latency(results.map((r) => r.translationsOk));
      const translationsOther = latency(results.map((r) => r.translationsOther));
      const delivered = originals.count + translationsOk.count + translationsOther.count;
      const serverCpuMs = (cpuUsed.user + cpuUsed.system) / 1000;
      return {
        messages: count,
        sendRate: sent.seconds > 0 ? (count - 1) / sent.seconds : Number.NaN,
        lateSends: sent.lateSends,
        wallSeconds,
        complete: drained.every(Boolean),
        originals: {
          ...originals,
          expected: results.reduce((n, r) => n + r.originalsExpected, 0),
          duplicates: results.reduce((n, r) => n + r.duplicateOriginals, 0),
        },
        translations: {
          expected: results.reduce((n, r) => n + r.translationsExpected, 0),
          received: translationsOk.count + translationsOther.count,
          duplicates: results.reduce((n, r) => n + r.duplicateTranslations, 0),
          wrongLanguage: results.reduce((n, r) => n + r.wrongLanguage, 0),
          unchanged: results.reduce((n, r) => n + r.unchangedTranslations, 0),
        },
        translationsOk,
        translationsOther,
        translationStatus: statuses,
        acks: { ...latency(results.map((r) => r.acks)), errors: ackErrors },
        serverOriginals: latency([Float32Array.from(handoff.originals)]),
        serverTranslations: latency([Float32Array.from(handoff.translations)]),
        stray: results.reduce((n, r) => n + r.stray, 0),
        clientErrors,
        disconnects: results.reduce((n, r) => n + r.disconnects, 0),
        targetLanguagesPerMessage: targets / count,
        engineRequests,
        engineRequestsPerMessage: engineRequests / count,
        translatorOutcomes: outcomes,
        cacheHits: delta('chat_translation_cache_total', { result: 'hit' }),
        cacheMisses: delta('chat_translation_cache_total', { result: 'miss' }),
        engineRequestMeanMs:
          durationCount > 0 ? (delta('chat_translation_duration_seconds_sum') / durationCount) * 1000 : Number.NaN,
        serverCpuMs,
        serverCpuMsPerMessage: serverCpuMs / count,
        serverCpuMicrosPerDelivery: delivered > 0 ? (serverCpuMs * 1000) / delivered : Number.NaN,
        serverCpuShare: serverCpuMs / 1000 / wallSeconds,
        clientCpuMs: results.reduce((n, r) => n + r.cpuMicros, 0) / 1000,
        engineCpuMs: engineCpu / 1000,
        eventLoopDelayMs: {
          p50: loop.percentile(50) / 1e6,
          p99: loop.percentile(99) / 1e6,
          max: loop.max / 1e6,
        },
        trend: {
          originals: trend(
            results.map((r) => r.byMessage.originalSum),
            results.map((r) => r.byMessage.originalN),
            4,
          ),
          translations: trend(
            results.map((r) => r.byMessage.translationSum),
            results.map((r) => r.byMessage.translationN),
            4,
          ),
        },
        samples: results.flatMap((r) => r.samples).slice(0, 6),
        ...(profilePath ? { profile: profilePath } : {}),
      };
    };

    progress(`warm-up: ${o.warmupSeconds} s at ${o.rate} messages/s`);
    const warmup = await phase('w', o.warmupSeconds, false);
    await sleep(Math.min(500, idleSeconds * 1000));
    progress(`measuring: ${o.seconds} s at ${o.rate} messages/s`);
    const loadStart = loadavg()[0]!;
    const { profile, ...window } = await phase('m', o.seconds, o.profileDir !== undefined);
    const loadEnd = loadavg()[0]!;

    return {
      machine: { cores: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version },
      loadAverage: { start: loadStart, end: loadEnd },
      engine: o.engine,
      members: o.members,
      membersByLanguage,
      senders,
      senderLanguages: o.senderLanguages,
      rate: o.rate,
      seconds: o.seconds,
      warmupSeconds: o.warmupSeconds,
      clientProcesses: processes,
      connectSeconds,
      joinSeconds,
      join: latency(joined.map((j) => j.latencies)),
      joinFailures,
      ...(joinProfile ? { joinProfile } : {}),
      idleServerCpuMsPerSecond,
      warmup,
      window,
      ...(profile ? { profile } : {}),
    };
  } finally {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (err) {
        progress(`cleanup: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    process.off('exit', killAll);
  }
}

// --- the report ------------------------------------------------------------------------------------

const f = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '—');
const counts = (r: Record<string, number>) =>
  Object.keys(r).length === 0
    ? 'none'
    : Object.entries(r)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');

function tally(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

const ENGINE_NAMES: Record<ChatBenchEngine, string> = {
  libretranslate: 'LibreTranslate API (compatible server) → Apertium APy',
  apertium: 'Apertium APy (direct)',
  none: 'none (originals only)',
};

/** The report as text: a header, the latency table, the counts and costs. */
export function formatReport(r: ChatBenchResult): string {
  const w = r.window;
  const row = (what: string, l: Latency, received: string) =>
    `| ${what} | ${received} | ${f(l.p50)} | ${f(l.p95)} | ${f(l.p99)} | ${f(l.max)} |`;
  const lost = w.originals.expected - w.originals.count + (w.translations.expected - w.translations.received);
  const lines = [
    `chat benchmark: ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}; load average ${f(r.loadAverage.start, 2)} → ${f(r.loadAverage.end, 2)} over the window`,
    `  engine: ${ENGINE_NAMES[r.engine]}`,
    `  room: ${r.members} members (${counts(r.membersByLanguage)}), ${r.senders} senders (${counts(tally(r.senderLanguages))}), ${r.clientProcesses} client process(es)`,
    `  load: ${r.rate} messages/s for ${r.seconds} s after ${r.warmupSeconds} s of warm-up; achieved ${f(w.sendRate)} messages/s` +
      (w.lateSends > 0 ? ` (${w.lateSends} sends more than one interval late)` : ''),
    `  joins: ${r.members} connected in ${f(r.connectSeconds, 2)} s, all joined (joined + chat:state) in ${f(r.joinSeconds, 2)} s` +
      ` (per join p50 ${f(r.join.p50, 0)} ms, p99 ${f(r.join.p99, 0)} ms)` +
      (r.joinFailures.length > 0 ? `; ${r.joinFailures.length} failed: ${r.joinFailures[0]}` : ''),
    '',
    '| latency, ms (send → receive) | received / expected | p50 | p95 | p99 | max |',
    '|---|---|---:|---:|---:|---:|',
    row('original (`chat:message`, every member)', w.originals, `${w.originals.count} / ${w.originals.expected}`),
    row(
      'translation, ok (`chat:translation`, readers of other languages)',
      w.translationsOk,
      `${w.translationsOk.count} / ${w.translations.expected}`,
    ),
    ...(w.translationsOther.count > 0
      ? [
          row(
            `translation, not ok (${counts(w.translationStatus)})`,
            w.translationsOther,
            `${w.translationsOther.count}`,
          ),
        ]
      : []),
    row('sender acknowledgement (stored)', w.acks, `${w.acks.count} / ${w.messages}`),
    row(
      'in the server: original handed to every socket (per message)',
      w.serverOriginals,
      `${w.serverOriginals.count}`,
    ),
    row(
      'in the server: translation handed to its readers (per message and language)',
      w.serverTranslations,
      `${w.serverTranslations.count}`,
    ),
    '',
    `deliveries: ${lost === 0 && w.complete ? 'all arrived' : `${lost} missing`}; duplicates: originals ${w.originals.duplicates}, translations ${w.translations.duplicates}; translations in the wrong language ${w.translations.wrongLanguage}, "ok" but unchanged ${w.translations.unchanged}; ack errors: ${counts(w.acks.errors)}; client errors: ${counts(w.clientErrors)}; disconnects ${w.disconnects}; stray ${w.stray}`,
    `translation engine: ${w.engineRequests} requests for ${w.messages} messages = ${f(w.engineRequestsPerMessage, 2)} per message` +
      ` (distinct target languages per message: ${f(w.targetLanguagesPerMessage, 2)}); mean request ${f(w.engineRequestMeanMs)} ms;` +
      ` cache hits ${w.cacheHits}, misses ${w.cacheMisses}; translator outcomes: ${counts(w.translatorOutcomes)}`,
    `server CPU: ${f(w.serverCpuMsPerMessage, 2)} ms per message, ${f(w.serverCpuMicrosPerDelivery, 1)} µs per delivered event` +
      ` (${f(w.serverCpuShare * 100, 0)}% of one core over ${f(w.wallSeconds)} s; idle with everyone connected: ${f(r.idleServerCpuMsPerSecond)} ms/s)`,
    `mean latency of the messages sent in each quarter of the window, ms: originals ${w.trend.originals.map((x) => f(x, 0)).join(' → ')}; translations ${w.trend.translations.map((x) => f(x, 0)).join(' → ')}`,
    `server event loop delay: p50 ${f(w.eventLoopDelayMs.p50)} ms, p99 ${f(w.eventLoopDelayMs.p99)} ms, max ${f(w.eventLoopDelayMs.max)} ms`,
    `other processes' CPU: clients ${f((w.clientCpuMs / 1000 / w.wallSeconds) * 100, 0)}% of one core, engine (APy + pipelines + API server) ${f((w.engineCpuMs / 1000 / w.wallSeconds) * 100, 0)}% (${f(w.engineCpuMs / Math.max(1, w.engineRequests), 1)} ms per request)`,
    `warm-up: ${r.warmup.messages} messages, originals ${r.warmup.originals.count}/${r.warmup.originals.expected}, translations ${r.warmup.translations.received}/${r.warmup.translations.expected} (${counts(r.warmup.translationStatus)}), p99 original ${f(r.warmup.originals.p99)} ms, translation ${f(r.warmup.translationsOk.p99)} ms`,
    ...w.samples.map((s) => `  sample → ${s.language}: "${s.original}" → "${s.translated}"`),
    ...(r.profile ? [`server CPU profiles: joins ${r.joinProfile}, window ${r.profile}`] : []),
  ];
  return lines.join('\n');
}

/** The numbers as one JSON object (latencies in ms). */
export function jsonSummary(r: ChatBenchResult): Record<string, unknown> {
  const w = r.window;
  const l = (x: Latency) => ({ n: x.count, p50: x.p50, p95: x.p95, p99: x.p99, max: x.max });
  return {
    bench: 'chat',
    engine: r.engine,
    cores: r.machine.cores,
    loadAverage: r.loadAverage,
    members: r.members,
    membersByLanguage: r.membersByLanguage,
    senders: r.senders,
    senderLanguages: [...new Set(r.senderLanguages)],
    rate: r.rate,
    seconds: r.seconds,
    sendRate: w.sendRate,
    connectSeconds: r.connectSeconds,
    joinSeconds: r.joinSeconds,
    join: l(r.join),
    original: { ...l(w.originals), expected: w.originals.expected, duplicates: w.originals.duplicates },
    translationOk: l(w.translationsOk),
    translationOther: l(w.translationsOther),
    translationsExpected: w.translations.expected,
    translationStatus: w.translationStatus,
    translationDuplicates: w.translations.duplicates,
    ack: l(w.acks),
    serverOriginal: l(w.serverOriginals),
    serverTranslation: l(w.serverTranslations),
    ackErrors: w.acks.errors,
    complete: w.complete,
    engineRequestsPerMessage: w.engineRequestsPerMessage,
    targetLanguagesPerMessage: w.targetLanguagesPerMessage,
    engineRequestMeanMs: w.engineRequestMeanMs,
    translatorOutcomes: w.translatorOutcomes,
    cacheHits: w.cacheHits,
    serverCpuMsPerMessage: w.serverCpuMsPerMessage,
    serverCpuMicrosPerDelivery: w.serverCpuMicrosPerDelivery,
    serverCpuShare: w.serverCpuShare,
    idleServerCpuMsPerSecond: r.idleServerCpuMsPerSecond,
    eventLoopDelayMs: w.eventLoopDelayMs,
    trend: w.trend,
    clientCpuShare: w.clientCpuMs / 1000 / w.wallSeconds,
    engineCpuShare: w.engineCpuMs / 1000 / w.wallSeconds,
  };
}
