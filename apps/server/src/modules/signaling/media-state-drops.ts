import type { Logger } from '@fusionflow/kit';
import type { PeerId, RoomId } from '@fusionflow/protocol';

/** Which copies of a `media-state` delivery to leave out (SignalingService asks on every delivery). */
export interface MediaStateFilter {
  /** The peers of a delivery in `roomId` (to everyone, or only `to`) whose copy is left out. */
  take(roomId: RoomId, from: PeerId, to: readonly PeerId[] | undefined): readonly PeerId[];
  clear(): void;
}

const NONE: readonly PeerId[] = [];

/** Production: every copy is delivered; nothing is looked up or kept. */
export const NO_DROPS: MediaStateFilter = Object.freeze({ take: () => NONE, clear: () => undefined });

/**
 * TEST ONLY (`TEST_HOOKS=true`): `media-state` deliveries to drop, so browser scenarios can lose
 * one on purpose. SignalingService gets one only when the hooks are on; otherwise it has NO_DROPS.
 */
export class MediaStateDrops implements MediaStateFilter {
  readonly #drops = new Map<string, number>();

  constructor(private readonly logger: Logger) {}

  /** Drop the next `count` media-state messages the server would deliver to a peer. */
  drop(roomId: RoomId, peerId: PeerId, count = 1): void {
    this.#drops.set(`${roomId} ${peerId}`, (this.#drops.get(`${roomId} ${peerId}`) ?? 0) + count);
    this.logger.warn({ roomId, peerId, count }, 'test hook: dropping the next media-state to this peer');
  }

  /** The peers of a delivery in `roomId` (to everyone, or only `to`) whose copy is dropped; counts them off. */
  take(roomId: RoomId, from: PeerId, to: readonly PeerId[] | undefined): PeerId[] {
    const dropped: PeerId[] = [];
    for (const [key, count] of this.#drops) {
      const [room, target] = key.split(' ') as [RoomId, PeerId];
      if (room !== roomId || (to && !to.includes(target))) continue;
      dropped.push(target);
      if (count <= 1) this.#drops.delete(key);
      else this.#drops.set(key, count - 1);
    }
    if (dropped.length > 0) this.logger.warn({ roomId, peerId: from, dropped }, 'test hook: media-state dropped');
    return dropped;
  }

  clear(): void {
    this.#drops.clear();
  }
}
