import { Counter, Gauge, type Registry } from '@fusionflow/kit';

/**
 * The SFU's Prometheus metrics. Per-packet counts are kept as plain numbers per room (the fast path
 * never touches prom-client) and added to the counters when /metrics is scraped or a room closes.
 */
export class SfuMetrics {
  readonly rooms: Gauge;
  readonly publishers: Gauge;
  readonly subscribers: Gauge<'room'>;
  /** WHEP sessions held against SFU_MAX_VIEWERS, and viewers refused because it was reached. */
  readonly viewerBudget: { inUse: Gauge; refused: Counter };
  readonly #counters: Record<keyof RoomCounts, Counter<'room'>>;
  readonly #live = new Set<RoomMetrics>();

  constructor(registry: Registry) {
    this.rooms = new Gauge({
      name: 'live_rooms',
      help: 'Rooms with a publisher or subscribers',
      registers: [registry],
    });
    this.publishers = new Gauge({ name: 'live_publishers', help: 'Publishing sessions', registers: [registry] });
    this.subscribers = new Gauge({
      name: 'live_subscribers',
      help: 'Subscribers per room',
      labelNames: ['room'],
      registers: [registry],
    });
    this.viewerBudget = {
      inUse: new Gauge({
        name: 'sfu_viewer_sessions',
        help: 'WHEP sessions held against SFU_MAX_VIEWERS',
        registers: [registry],
      }),
      refused: new Counter({
        name: 'sfu_viewers_refused_total',
        help: 'WHEP requests refused with 503 sfu_full (SFU_MAX_VIEWERS reached)',
        registers: [registry],
      }),
    };
    const flush = () => {
      for (const room of this.#live) room.flush();
    };
    const counter = (name: string, help: string, collect?: () => void) =>
      new Counter({
        name,
        help,
        labelNames: ['room'] as const,
        registers: [registry],
        ...(collect ? { collect } : {}),
      });
    this.#counters = {
      // One collect hook flushes every room into every counter before the scrape reads them.
      rtpPackets: counter('live_rtp_packets_total', 'RTP packets received from publishers', flush),
      rtpBytes: counter('live_rtp_bytes_total', 'RTP bytes received from publishers'),
      forwardedPackets: counter('live_rtp_forwarded_packets_total', 'RTP packets sent to subscribers'),
      forwardedBytes: counter('live_rtp_forwarded_bytes_total', 'SRTP bytes sent to subscribers'),
      nacks: counter('live_nacks_total', 'NACK feedback messages received from subscribers'),
      retransmitted: counter('live_retransmitted_packets_total', 'Packets resent from the NACK cache'),
      plis: counter('live_plis_total', 'Keyframe requests (PLI) sent to publishers'),
      dropped: counter(
        'live_dropped_packets_total',
        'Packets not delivered to a subscriber (waiting for a keyframe, transport not ready)',
      ),
    };
  }

  forRoom(room: string): RoomMetrics {
    const m = new RoomMetrics(room, this.#counters);
    this.#live.add(m);
    this.rooms.set(this.#live.size);
    return m;
  }

  /** The room closed: flush its counts and forget its series. */
  release(m: RoomMetrics): void {
    m.flush();
    this.#live.delete(m);
    this.rooms.set(this.#live.size);
    this.subscribers.remove({ room: m.room });
    for (const c of Object.values(this.#counters)) c.remove({ room: m.room });
  }
}

interface RoomCounts {
  rtpPackets: number;
  rtpBytes: number;
  forwardedPackets: number;
  forwardedBytes: number;
  nacks: number;
  retransmitted: number;
  plis: number;
  dropped: number;
}

/** Counts of one room, bumped on the hot path as plain numbers. */
export class RoomMetrics {
  readonly #pending: RoomCounts = {
    rtpPackets: 0,
    rtpBytes: 0,
    forwardedPackets: 0,
    forwardedBytes: 0,
    nacks: 0,
    retransmitted: 0,
    plis: 0,
    dropped: 0,
  };
  /** Totals since the room opened (tests and the admin API read them). */
  readonly totals: RoomCounts = { ...this.#pending };

  constructor(
    readonly room: string,
    private readonly counters?: Record<keyof RoomCounts, Counter<'room'>>,
  ) {}

  received(bytes: number): void {
    this.#pending.rtpPackets++;
    this.#pending.rtpBytes += bytes;
  }
  sent(bytes: number): void {
    this.#pending.forwardedPackets++;
    this.#pending.forwardedBytes += bytes;
  }
  retransmitted(bytes: number): void {
    this.#pending.retransmitted++;
    this.#pending.forwardedBytes += bytes;
  }
  nack(): void {
    this.#pending.nacks++;
  }
  pli(): void {
    this.#pending.plis++;
  }
  dropped(n: number): void {
    this.#pending.dropped += n;
  }

  flush(): void {
    for (const key of Object.keys(this.#pending) as (keyof RoomCounts)[]) {
      const v = this.#pending[key];
      if (v === 0) continue;
      this.totals[key] += v;
      this.counters?.[key].inc({ room: this.room }, v);
      this.#pending[key] = 0;
    }
  }
}
