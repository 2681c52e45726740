// Child process of the SFU benchmark: N werift subscribers that count what reaches them.
// Subscribers only count packets: once connected, SRTP decryption is replaced by a look at the
// packet's clear RTP header (sequence number, and the send time the publisher put in the RTP
// timestamp), so this process measures the SFU, not its own decryption.
import { createSubscriberPeer, exchange, nowMs } from './peers.js';

interface Sub {
  pc: ReturnType<typeof createSubscriberPeer>;
  location: string;
  /** send time (ms) of each received packet, and latency (ms). */
  received: { sent: number; latency: number }[];
}

const subs: Sub[] = [];

/**
 * Take over the subscriber's UDP socket once connected: RTP is counted from its clear header
 * (sequence number, and the send time the publisher put in the RTP timestamp) and dropped; STUN,
 * DTLS and RTCP still go to werift, so ICE consent and RTCP keep working. No SRTP decryption: this
 * process must measure the SFU, not itself.
 */
function countOnly(sub: Sub): void {
  const connection = sub.pc.iceTransports[0]!.connection as unknown as {
    nominated: { protocol: { transport: { socket: import('node:dgram').Socket } } };
  };
  const socket = connection.nominated.protocol.transport.socket;
  const werift = socket.listeners('message') as ((msg: Buffer, rinfo: import('node:dgram').RemoteInfo) => void)[];
  socket.removeAllListeners('message');
  socket.on('message', (msg: Buffer, rinfo) => {
    const b0 = msg[0]!;
    const b1 = msg[1]!;
    // RTP (not RTCP: payload types 200-207 with the marker bit are RTCP packet types 72-79 + 128).
    if (b0 >= 128 && b0 <= 191 && !(b1 >= 192 && b1 <= 223)) {
      const now = nowMs();
      const ts = msg.readUInt32BE(4);
      const latency = ((Math.floor(now * 90) - ts) >>> 0) / 90;
      sub.received.push({ sent: now - latency, latency });
      return;
    }
    for (const l of werift) l(msg, rinfo);
  });
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
        const s: Sub = { pc, location, received: [] };
        if (!process.env.BENCH_NO_TAKEOVER) countOnly(s);
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
