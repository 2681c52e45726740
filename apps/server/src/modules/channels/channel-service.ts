import { notFound } from '@fusionflow/kit';
import { asUserId, type Channel, ErrorCode, isHandle } from '@fusionflow/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { RoomService } from '../rooms/room-service.js';

/**
 * Channels: a streamer's permanent address (`/c/<handle>`) that outlives each broadcast. A channel is
 * an account seen through its handle, with the broadcast on now and the latest one.
 */
export class ChannelService {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly rooms: RoomService,
  ) {}

  async get(handle: string): Promise<Channel> {
    const lookup = handle.trim().toLowerCase();
    const user = isHandle(lookup)
      ? await this.db
          .selectFrom('users')
          .select(['id', 'handle', 'display_name'])
          .where('handle', '=', lookup)
          .executeTakeFirst()
      : undefined;
    if (!user) throw notFound(`no channel @${lookup}`, ErrorCode.ChannelNotFound);
    const [live, latestRoom] = await Promise.all([
      this.rooms.list({ status: 'live', kind: 'live', owner: asUserId(user.id), limit: 1 }),
      this.rooms.latestBroadcastOf(user.id),
    ]);
    return {
      handle: user.handle,
      ownerId: asUserId(user.id),
      displayName: user.display_name,
      live: live.rooms[0] ?? null,
      latestRoom,
    };
  }
}
