import { Counter, Gauge, type Registry } from '@fusionflow/kit';
import { SessionSeconds } from '../../observability/session-seconds.js';
import type { RoomPresence } from '../realtime/room-presence.js';

/**
 * Call and meeting minutes (the seeds' business metric) from this process's view of call rooms:
 * the time each participant is connected, free and paid calls apart, counted while calls last.
 */
export class CallMetrics {
  readonly #clock: SessionSeconds<'paid'>;
  readonly #unsubscribe: () => void;

  constructor(o: { presence: RoomPresence; metrics: Registry }) {
    const clock: SessionSeconds<'paid'> = new SessionSeconds<'paid'>(
      new Counter({
        name: 'call_participant_seconds_total',
        help: 'Time participants spent connected in call rooms (÷ 60: call minutes), by whether the call is paid',
        labelNames: ['paid'] as const,
        registers: [o.metrics],
        collect: (): void => clock.flush(),
      }),
    );
    this.#clock = clock;
    new Gauge({
      name: 'call_participants',
      help: 'Participants connected to call rooms through this process',
      registers: [o.metrics],
      collect() {
        this.set(clock.open);
      },
    });
    this.#unsubscribe = o.presence.on('presence', (event) => {
      if (event.type === 'joined') {
        if (event.room.kind === 'call') {
          clock.start(event.member.peerId, { paid: String((event.room.pricePerMinute ?? 0) > 0) });
        }
      } else clock.stop(event.member.peerId);
    });
  }

  close(): void {
    this.#unsubscribe();
    this.#clock.close();
  }
}
