import { z } from 'zod';
import { UserId } from './ids.js';
import { Room } from './rooms.js';
import { text } from './text.js';

/** GET /api/channels/:handle — a streamer's permanent page: who, and what is on now. */
export const Channel = z.object({
  handle: text(),
  ownerId: UserId,
  displayName: text(),
  /** The owner's live room that is live now, if any. */
  live: Room.nullable(),
  /** The owner's most recently created live room, whatever its status (the last or next broadcast). */
  latestRoom: Room.nullable(),
});
export type Channel = z.infer<typeof Channel>;

/** Any string is looked up (lowercased); one that is not a valid handle simply has no channel (404). */
export const ChannelParams = z.strictObject({ handle: text().max(64) });
export type ChannelParams = z.infer<typeof ChannelParams>;
