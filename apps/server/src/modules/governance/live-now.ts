import { asRoomId, asUserId, type LiveNowItem } from '@fusionflow/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

/**
 * What is live on the platform now: every live broadcast (viewers as the SFU counts them, the node
 * it runs on) and every call (members in the room, peer to peer), with how long it has run.
 */
export class LiveNow {
  constructor(
    private readonly o: {
      db: Kysely<Database>;
      /** Members of a call room (presence). */
      members(roomId: ReturnType<typeof asRoomId>): Promise<unknown[]>;
      /** The SFU node broadcasts run on. */
      node(): string;
    },
  ) {}

  async list(): Promise<LiveNowItem[]> {
    const rows = await this.o.db
      .selectFrom('rooms')
      .innerJoin('users', 'users.id', 'rooms.owner_id')
      .select([
        'rooms.id',
        'rooms.kind',
        'rooms.title',
        'rooms.owner_id',
        'rooms.viewer_count',
        'rooms.started_at',
        'users.display_name',
      ])
      .where('rooms.status', '=', 'live')
      .orderBy('rooms.started_at')
      .limit(1000)
      .execute();
    const now = Date.now();
    return Promise.all(
      rows.map(async (r) => {
        const startedAt = r.started_at ? new Date(r.started_at) : null;
        return {
          roomId: asRoomId(r.id),
          kind: r.kind,
          title: r.title,
          ownerId: asUserId(r.owner_id),
          ownerName: r.display_name,
          viewers: r.kind === 'live' ? r.viewer_count : (await this.o.members(asRoomId(r.id))).length,
          startedAt: startedAt?.toISOString() ?? null,
          durationSeconds: startedAt ? Math.max(0, Math.floor((now - startedAt.getTime()) / 1000)) : 0,
          node: r.kind === 'live' ? this.o.node() : 'p2p',
        };
      }),
    );
  }
}
