import { z } from 'zod';
import { ChatMessage } from './chat.js';
import { RoomId, UserId } from './ids.js';
import { RecordingId } from './recording.js';
import { text } from './text.js';

/** A recorded broadcast as the API shows it (GET /api/replays, /api/replays/:id, /api/rooms/:id/replay). */
export const ReplayStatus = z.enum(['pending', 'recording', 'ready', 'failed']);
export type ReplayStatus = z.infer<typeof ReplayStatus>;

export const Replay = z.object({
  id: RecordingId,
  roomId: RoomId,
  ownerId: UserId,
  ownerName: text(),
  title: text(),
  status: ReplayStatus,
  startedAt: text().nullable(),
  endedAt: text().nullable(),
  durationMs: z.number().int().nullable(),
  hidden: z.boolean(),
  /** The broadcast's ticket price: a paid broadcast's replay needs its ticket. */
  ticketPrice: z.number().int().nullable(),
  createdAt: text(),
});
export type Replay = z.infer<typeof Replay>;

/** POST /api/replays/:id/playback: where the replay's file can be fetched (short-lived). */
export const ReplayPlayback = z.object({ url: text(), contentType: text(), expiresAt: text() });
export type ReplayPlayback = z.infer<typeof ReplayPlayback>;

/** GET /api/replays/:id/chat: the broadcast's chat, each message at its offset from the start. */
export const ReplayChat = z.object({ messages: z.array(ChatMessage.extend({ offsetMs: z.number() })) });
export type ReplayChat = z.infer<typeof ReplayChat>;
