// A client process of the chat benchmark (bench/chat/chat-bench.ts forks it): Socket.IO clients that
// join one live room as members reading different languages; the process holding the senders also
// sends the messages. Latency is measured here, on this machine's wall clock (performance.timeOrigin +
// performance.now(), shared by every process): the send time travels in the clientId, so any client
// process can compute send → receive for the originals, and for the translations once the original
// told it the message's id. Nothing here runs in the server's process, so none of it is billed to the
// server's CPU time.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { io, type Socket } from 'socket.io-client';
import type { ChildMessage, MemberSpec, ParentMessage, PhasePlan, PhaseResult } from './ipc.js';
import { sentence } from './sentences.js';

const PROTOCOL_VERSION = 1;
const CONNECT_CONCURRENCY = 100;
const now = () => performance.timeOrigin + performance.now();
const base = (language: string) => language.split('-')[0] ?? language;

interface Member extends MemberSpec {
  /** Index among this process's members. */
  local: number;
  socket: Socket;
}

interface MessageInfo {
  k: number;
  sent: number;
  text: string;
}

interface Phase {
  plan: PhasePlan;
  originalsExpected: number;
  translationsExpected: number;
  originalsSeen: Uint8Array;
  translationsSeen: Uint8Array;
  originals: Float32Array;
  originalsCount: number;
  translationsOk: Float32Array;
  translationsOkCount: number;
  translationsOther: Float32Array;
  translationsOtherCount: number;
  acks: number[];
  /** Per message: latency sums and counts (the trend over the phase). */
  originalSum: Float64Array;
  originalN: Uint32Array;
  translationSum: Float64Array;
  translationN: Uint32Array;
  ids: Map<string, MessageInfo>;
  duplicateOriginals: number;
  duplicateTranslations: number;
  wrongLanguage: number;
  unchangedTranslations: number;
  translationStatus: Record<string, number>;
  ackErrors: Record<string, number>;
  errors: Record<string, number>;
  disconnects: number;
  stray: number;
  cpuStart: NodeJS.CpuUsage;
  cpuMicros: number | undefined;
  drained: boolean;
  samples: PhaseResult['samples'];
}

let members: Member[] = [];
let roomId = '';
let phase: Phase | undefined;
const idleErrors: Record<string, number> = {};

function send(message: ChildMessage): void {
  process.send!(message);
}

const CLIENT_ID = /^([A-Za-z]+)-(\d+)-(\d+)$/;

function onMessage(m: Member, msg: { id: string; clientId: string; text: string }): void {
  const p = phase;
  const match = CLIENT_ID.exec(msg.clientId);
  if (!p || !match || match[1] !== p.plan.tag) {
    if (p) p.stray += 1;
    return;
  }
  const k = Number(match[2]);
  const sent = Number(match[3]) / 1000;
  const latency = now() - sent;
  let info = p.ids.get(msg.id);
  if (!info) {
    info = { k, sent, text: msg.text };
    p.ids.set(msg.id, info);
    const waiting = early.get(msg.id);
    early.delete(msg.id);
    for (const e of waiting ?? []) onTranslation(e.m, e.ev, e.at);
  }
  const slot = k * members.length + m.local;
  if (p.originalsSeen[slot]) {
    p.duplicateOriginals += 1;
    return;
  }
  p.originalsSeen[slot] = 1;
  p.originals[p.originalsCount++] = latency;
  p.originalSum[k]! += latency;
  p.originalN[k]! += 1;
  checkDrained(p);
}

type TranslationEvent = { messageId: string; language: string; status: string; text?: string };
/** Translations that arrived before any member had their message (it waited in the room's batch). */
const early = new Map<string, { m: Member; ev: TranslationEvent; at: number }[]>();

function onTranslation(m: Member, ev: TranslationEvent, at = now()): void {
  const p = phase;
  const info = p?.ids.get(ev.messageId);
  if (!p) return;
  if (!info) {
    const list = early.get(ev.messageId) ?? [];
    list.push({ m, ev, at });
    early.set(ev.messageId, list);
    return;
  }
  const latency = at - info.sent;
  if (ev.language !== m.language) p.wrongLanguage += 1;
  const slot = info.k * members.length + m.local;
  if (p.translationsSeen[slot]) {
    p.duplicateTranslations += 1;
    return;
  }
  p.translationsSeen[slot] = 1;
  p.translationSum[info.k]! += latency;
  p.translationN[info.k]! += 1;
  p.translationStatus[ev.status] = (p.translationStatus[ev.status] ?? 0) + 1;
  if (ev.status === 'ok') {
    p.translationsOk[p.translationsOkCount++] = latency;
    if (ev.text === info.text) p.unchangedTranslations += 1;
    if (p.samples.length < 6 && !p.samples.some((s) => s.language === ev.language)) {
      p.samples.push({ original: info.text, language: ev.language, translated: ev.text ?? '' });
    }
  } else {
    p.translationsOther[p.translationsOtherCount++] = latency;
  }
  checkDrained(p);
}

function checkDrained(p: Phase): void {
  if (p.drained) return;
  const translations = p.translationsOkCount + p.translationsOtherCount;
  if (p.originalsCount === p.originalsExpected && translations === p.translationsExpected) {
    p.drained = true;
    const used = process.cpuUsage(p.cpuStart);
    p.cpuMicros = used.user + used.system;
    send({ type: 'drained' });
  }
}

function count(record: Record<string, number>, key: string): void {
  record[key] = (record[key] ?? 0) + 1;
}

async function connect(url: string, specs: MemberSpec[]): Promise<string[]> {
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < specs.length) {
      const local = next++;
      const spec = specs[local]!;
      const socket = io(url, {
        path: '/socket.io',
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
        auth: { token: spec.token, protocol: PROTOCOL_VERSION },
      });
      try {
        await new Promise<void>((resolve, reject) => {
          socket.once('connect', () => resolve());
          socket.once('connect_error', reject);
        });
      } catch (err) {
        failures.push(err instanceof Error ? err.message : String(err));
        continue;
      }
      const m: Member = { ...spec, local, socket };
      members[local] = m;
      socket.on('chat:message', (msg) => onMessage(m, msg));
      socket.on('chat:translation', (ev) => onTranslation(m, ev));
      socket.on(
        'chat:batch',
        (b: { messages: Parameters<typeof onMessage>[1][]; translations: Parameters<typeof onTranslation>[1][] }) => {
          for (const msg of b.messages) onMessage(m, msg);
          for (const ev of b.translations) onTranslation(m, ev);
        },
      );
      socket.on('error', (e: { code?: string }) => count(phase?.errors ?? idleErrors, e?.code ?? 'unknown'));
      socket.on('disconnect', () => {
        if (phase) phase.disconnects += 1;
        else count(idleErrors, 'disconnect');
      });
    }
  };
  await Promise.all(Array.from({ length: CONNECT_CONCURRENCY }, worker));
  return failures;
}

async function joinAll(): Promise<{ latencies: Float32Array; failures: string[] }> {
  const latencies = new Float32Array(members.length);
  const failures: string[] = [];
  await Promise.all(
    members.map(
      (m) =>
        new Promise<void>((resolve) => {
          const started = now();
          const timer = setTimeout(() => {
            failures.push(`member ${m.index}: no joined/chat:state within 180 s`);
            resolve();
          }, 180_000);
          let joined = false;
          m.socket.once('joined', () => {
            joined = true;
          });
          m.socket.once('chat:state', () => {
            if (!joined) failures.push(`member ${m.index}: chat:state before joined`);
            latencies[m.local] = now() - started;
            clearTimeout(timer);
            resolve();
          });
          m.socket.emit('join', { roomId, language: m.language }, (ack: { ok: boolean; error?: { code: string } }) => {
            if (!ack.ok) {
              failures.push(`member ${m.index}: ${ack.error?.code}`);
              clearTimeout(timer);
              resolve();
            }
          });
        }),
    ),
  );
  return { latencies, failures };
}

function prepare(plan: PhasePlan): void {
  const readers = new Map<string, number>();
  for (const m of members) readers.set(base(m.language), (readers.get(base(m.language)) ?? 0) + 1);
  let translationsExpected = 0;
  for (let k = 0; k < plan.count; k++) {
    const source = base(plan.senderLanguages[k % plan.senderLanguages.length]!);
    translationsExpected += members.length - (readers.get(source) ?? 0);
  }
  if (!plan.translates) translationsExpected = 0;
  const slots = plan.count * members.length;
  early.clear();
  phase = {
    plan,
    originalsExpected: slots,
    translationsExpected,
    originalsSeen: new Uint8Array(slots),
    translationsSeen: new Uint8Array(slots),
    originals: new Float32Array(slots),
    originalsCount: 0,
    translationsOk: new Float32Array(translationsExpected),
    translationsOkCount: 0,
    translationsOther: new Float32Array(translationsExpected),
    translationsOtherCount: 0,
    acks: [],
    originalSum: new Float64Array(plan.count),
    originalN: new Uint32Array(plan.count),
    translationSum: new Float64Array(plan.count),
    translationN: new Uint32Array(plan.count),
    ids: new Map(),
    duplicateOriginals: 0,
    duplicateTranslations: 0,
    wrongLanguage: 0,
    unchangedTranslations: 0,
    translationStatus: {},
    ackErrors: {},
    errors: {},
    disconnects: 0,
    stray: 0,
    cpuStart: process.cpuUsage(),
    cpuMicros: undefined,
    drained: false,
    samples: [],
  };
  if (slots === 0) checkDrained(phase);
}

/** Send the phase's messages at its rate, round-robin over the senders; late timers catch up. */
async function sendAll(p: Phase): Promise<void> {
  const senders = members.filter((m) => m.sender).sort((a, b) => a.index - b.index);
  if (senders.length !== p.plan.senderLanguages.length) {
    throw new Error(`${senders.length} senders here, the plan has ${p.plan.senderLanguages.length}`);
  }
  const interval = 1000 / p.plan.rate;
  const start = now();
  let lateSends = 0;
  for (let k = 0; k < p.plan.count; k++) {
    const due = start + k * interval;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    const t = now();
    if (t - due > interval) lateSends += 1;
    const sender = senders[k % senders.length]!;
    const sent = t;
    sender.socket.emit(
      'chat:send',
      {
        roomId,
        text: sentence(sender.language, p.plan.textOffset + k),
        clientId: `${p.plan.tag}-${k}-${Math.round(t * 1000)}`,
      },
      (ack: { ok: boolean; error?: { code: string } }) => {
        p.acks.push(now() - sent);
        if (!ack.ok) count(p.ackErrors, ack.error?.code ?? 'unknown');
      },
    );
  }
  send({ type: 'sent', sent: p.plan.count, seconds: (now() - start) / 1000, lateSends });
}

function result(p: Phase): PhaseResult {
  if (p.cpuMicros === undefined) {
    const used = process.cpuUsage(p.cpuStart);
    p.cpuMicros = used.user + used.system;
  }
  return {
    originals: p.originals.slice(0, p.originalsCount),
    translationsOk: p.translationsOk.slice(0, p.translationsOkCount),
    translationsOther: p.translationsOther.slice(0, p.translationsOtherCount),
    acks: Float32Array.from(p.acks),
    originalsExpected: p.originalsExpected,
    translationsExpected: p.translationsExpected,
    duplicateOriginals: p.duplicateOriginals,
    duplicateTranslations: p.duplicateTranslations,
    wrongLanguage: p.wrongLanguage,
    unchangedTranslations: p.unchangedTranslations,
    translationStatus: p.translationStatus,
    ackErrors: p.ackErrors,
    stray: p.stray,
    errors: p.errors,
    disconnects: p.disconnects,
    cpuMicros: p.cpuMicros,
    byMessage: {
      originalSum: p.originalSum,
      originalN: p.originalN,
      translationSum: p.translationSum,
      translationN: p.translationN,
    },
    samples: p.samples,
  };
}

process.on('message', (message: ParentMessage) => {
  void (async () => {
    switch (message.type) {
      case 'setup': {
        roomId = message.roomId;
        members = [];
        const started = now();
        const failures = await connect(message.url, message.members);
        // Sockets that failed to connect leave holes: close them up (the handlers hold these same objects).
        members = members.filter(Boolean);
        members.forEach((m, local) => {
          m.local = local;
        });
        send({ type: 'connected', ms: now() - started, failures });
        break;
      }
      case 'join': {
        const { latencies, failures } = await joinAll();
        send({ type: 'joined', latencies, failures });
        break;
      }
      case 'prepare':
        prepare(message.plan);
        send({ type: 'prepared' });
        break;
      case 'send':
        if (phase) await sendAll(phase);
        break;
      case 'finish':
        if (phase) send({ type: 'result', result: result(phase) });
        phase = undefined;
        break;
      case 'exit':
        for (const m of members) m.socket.close();
        process.exit(0);
    }
  })().catch((err: unknown) => {
    console.error('chat bench client failed:', err);
    process.exit(1);
  });
});
// The benchmark's process went away: so does this one (and its sockets).
process.on('disconnect', () => process.exit(0));
send({ type: 'ready' });
