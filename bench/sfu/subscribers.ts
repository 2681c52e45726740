// Child process of the SFU benchmark: N werift subscribers that count what reaches them.
// Subscribers only count packets: once connected, SRTP decryption is replaced by a look at the
// packet's clear RTP header (sequence number, and the send time the publisher put in the RTP
// timestamp), so this process measures the SFU, not its own decryption.
import { SrtpAuthenticationError } from 'werift';
import { createSubscriberPeer, exchange, nowMs } from './peers.js';

interface Sub {
  pc: ReturnType<typeof createSubscriberPeer>;
  location: string;
  /** send time (ms) of each received packet, and latency (ms). */
  received: { sent: number; latency: number }[];
  seqs: Set<number>;
}

const subs: Sub[] = [];
const counted = new SrtpAuthenticationError('counted');

function countOnly(sub: Sub): void {
  const dtls = sub.pc.dtlsTransports[0] as unknown as { srtp: { decrypt: (b: Buffer) => Buffer } };
  const original = dtls.srtp.decrypt;
  dtls.srtp.decrypt = (buf: Buffer) => {
    const now = nowMs();
    const seq = buf.readUInt16BE(2);
    const ts = buf.readUInt32BE(4);
    // Send time from the 90 kHz timestamp: the nearest value to now with those low 32 bits.
    const now90 = Math.floor(now * 90);
    const diff = (now90 - ts) >>> 0;
    const latency = diff / 90;
    sub.received.push({ sent: now - latency, latency });
    sub.seqs.add(seq);
    void original;
    // werift drops a packet that fails authentication without further work: the cheapest exit.
    throw counted;
  };
}

async function connect(url: string, n: number): Promise<void> {
  const batch = 10;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, async () => {
        const pc = createSubscriberPeer();
        const location = await exchange(url, pc);
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('subscriber did not connect')), 20_000);
          const sub = pc.connectionStateChange.subscribe((s) => {
            if (s === 'connected') {
              clearTimeout(timer);
              sub.unSubscribe();
              resolve();
            }
          });
        });
        const s: Sub = { pc, location, received: [], seqs: new Set() };
        countOnly(s);
        subs.push(s);
      }),
    );
  }
}

process.on(
  'message',
  async (msg: { type: string; url?: string; n?: number; from?: number; to?: number; base?: string }) => {
    try {
      if (msg.type === 'connect') {
        await connect(msg.url!, msg.n!);
        process.send!({ type: 'connected', n: subs.length });
      } else if (msg.type === 'window') {
        // Packets sent within [from, to), per subscriber, and latencies.
        const counts: number[] = [];
        const latencies: number[] = [];
        for (const s of subs) {
          let c = 0;
          for (const r of s.received) {
            if (r.sent >= msg.from! && r.sent < msg.to!) {
              c++;
              latencies.push(r.latency);
            }
          }
          counts.push(c);
        }
        latencies.sort((a, b) => a - b);
        const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
        process.send!({ type: 'window', counts, p50: pct(0.5), p95: pct(0.95), p99: pct(0.99) });
      } else if (msg.type === 'close') {
        await Promise.all(
          subs.map(async (s) => {
            await fetch(`${msg.base}${s.location}`, { method: 'DELETE' }).catch(() => {});
            await s.pc.close();
          }),
        );
        subs.length = 0;
        process.send!({ type: 'closed' });
      }
    } catch (err) {
      process.send!({ type: 'error', message: (err as Error).message });
    }
  },
);
process.send!({ type: 'ready' });
