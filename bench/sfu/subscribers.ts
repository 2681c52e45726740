// Child process of the SFU benchmark: N werift subscribers that count what reaches them.
// Subscribers only count packets: once connected, SRTP decryption is replaced by a look at the
// packet's clear RTP header (sequence number, and the send time the publisher put in the RTP
// timestamp), so this process measures the SFU, not its own decryption.
import { createSubscriberPeer, exchange, nowMs } from './peers.js';

/** Arrival records without an object per packet: send times per subscriber, a sample of latencies. */
class Received {
  sent = new Float64Array(16_384);
  count = 0;
  push(sentAt: number): void {
    if (this.count === this.sent.length) {
      const bigger = new Float64Array(this.sent.length * 2);
      bigger.set(this.sent);
      this.sent = bigger;
    }
    this.sent[this.count++] = sentAt;
  }
}

interface Sub {
  pc: ReturnType<typeof createSubscriberPeer>;
  location: string;
  received: Received;
}

/** Every 8th packet's latency (ms) with its send time, for percentiles. */
let latencySent = new Float64Array(65_536);
let latencyValue = new Float32Array(65_536);
let latencyCount = 0;
let sampleTick = 0;
function sampleLatency(sentAt: number, latency: number): void {
  if ((sampleTick++ & 7) !== 0) return;
  if (latencyCount === latencySent.length) {
    const s = new Float64Array(latencySent.length * 2);
    s.set(latencySent);
    latencySent = s;
    const v = new Float32Array(latencyValue.length * 2);
    v.set(latencyValue);
    latencyValue = v;
  }
  latencySent[latencyCount] = sentAt;
  latencyValue[latencyCount++] = latency;
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
  // Room for this process's own scheduling hiccups (capped by net.core.rmem_max).
  socket.setRecvBufferSize(4 * 1024 * 1024);
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
      sub.received.push(now - latency);
      sampleLatency(now - latency, latency);
      return;
    }
    for (const l of werift) l(msg, rinfo);
  });
}

/** `tokens`: one grant per viewer (a grant plays one session at a time); else the shared BENCH_VIEWER_TOKEN. */
async function connect(url: string, n: number, tokens?: string[]): Promise<void> {
  const batch = 10;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, async (_, j) => {
        const pc = createSubscriberPeer();
        // Absolute: viewers of one run may play from two nodes (BENCH_RELAY).
        const location = new URL(
          await exchange(url, pc, tokens?.[i + j] ?? process.env.BENCH_VIEWER_TOKEN),
          url,
        ).toString();
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
        const s: Sub = { pc, location, received: new Received() };
        if (!process.env.BENCH_NO_TAKEOVER) countOnly(s);
        subs.push(s);
      }),
    );
  }
}

process.on(
  'message',
  async (msg: {
    type: string;
    url?: string;
    n?: number;
    tokens?: string[];
    from?: number;
    to?: number;
    base?: string;
  }) => {
    try {
      if (msg.type === 'connect') {
        await connect(msg.url!, msg.n!, msg.tokens);
        process.send!({ type: 'connected', n: subs.length });
      } else if (msg.type === 'window') {
        // Packets sent within [from, to), per subscriber, and latencies.
        const counts: number[] = [];
        for (const sub of subs) {
          let c = 0;
          const { sent, count } = sub.received;
          for (let i = 0; i < count; i++) if (sent[i]! >= msg.from! && sent[i]! < msg.to!) c++;
          counts.push(c);
        }
        const latencies: number[] = [];
        for (let i = 0; i < latencyCount; i++) {
          if (latencySent[i]! >= msg.from! && latencySent[i]! < msg.to!) latencies.push(latencyValue[i]!);
        }
        latencies.sort((a, b) => a - b);
        const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
        process.send!({ type: 'window', counts, p50: pct(0.5), p95: pct(0.95), p99: pct(0.99) });
      } else if (msg.type === 'close') {
        await Promise.all(
          subs.map(async (s) => {
            await fetch(s.location, { method: 'DELETE' }).catch(() => {});
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
