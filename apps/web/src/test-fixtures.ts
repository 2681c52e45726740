import type { Replay, Room } from '@fusionflow/protocol';

/** Wire-shaped objects for component tests (what the API sends). */
export const roomFixture = (over: Record<string, unknown> = {}): Room =>
  ({
    id: 'r1',
    kind: 'live',
    title: 'Evening show',
    status: 'live',
    ownerId: 'u1',
    ownerName: 'Ann Lee',
    ownerHandle: 'ann-lee',
    ticketPrice: null,
    pricePerMinute: null,
    record: true,
    viewerCount: 3,
    createdAt: '2026-01-01T18:00:00.000Z',
    startedAt: '2026-01-01T18:00:00.000Z',
    endedAt: null,
    ...over,
  }) as Room;

export const replayFixture = (over: Record<string, unknown> = {}): Replay =>
  ({
    id: 'rec00000000000001',
    roomId: 'r1',
    ownerId: 'u1',
    ownerName: 'Ann Lee',
    title: 'Evening show',
    status: 'ready',
    startedAt: '2026-01-01T18:00:00.000Z',
    endedAt: '2026-01-01T19:01:05.000Z',
    durationMs: 3_665_000,
    hidden: false,
    ticketPrice: null,
    createdAt: '2026-01-01T18:00:00.000Z',
    ...over,
  }) as Replay;
