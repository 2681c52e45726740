import { z } from 'zod';
import { ChatMessage } from './chat.js';
import { Language } from './identity.js';
import { RoomId, UserId } from './ids.js';
import { RecordingId } from './recording.js';
import { RoomTitle } from './rooms.js';
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

/** GET /api/replays: ready replays, newest first; `owner` lists one streamer's (their own hidden ones too, for them). */
export const ListReplaysQuery = z.strictObject({
  owner: UserId.optional(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});
export type ListReplaysQuery = z.infer<typeof ListReplaysQuery>;

export const ListReplaysResponse = z.object({ replays: z.array(Replay) });
export type ListReplaysResponse = z.infer<typeof ListReplaysResponse>;

export const ReplayParams = z.strictObject({ id: RecordingId });
export type ReplayParams = z.infer<typeof ReplayParams>;

/** PATCH /api/replays/:id (owner or admin): rename or hide. */
export const UpdateReplayRequest = z
  .strictObject({ title: RoomTitle.optional(), hidden: z.boolean().optional() })
  .refine((v) => Object.keys(v).length > 0, { message: 'give at least one field to change' });
export type UpdateReplayRequest = z.infer<typeof UpdateReplayRequest>;

/**
 * GET /api/replays/:id/media/:name?token=: one local file of a replay (HTTP Range). The name is
 * checked against the recording's files, not here: anything else is 404, whatever it looks like.
 */
export const ReplayMediaParams = z.strictObject({ id: text().max(128), name: text().max(256) });
export type ReplayMediaParams = z.infer<typeof ReplayMediaParams>;
export const ReplayMediaQuery = z.strictObject({ token: text().max(512).optional() });
export type ReplayMediaQuery = z.infer<typeof ReplayMediaQuery>;

/** How long a playback URL (a media token, a presigned S3 URL) is valid. */
export const REPLAY_PLAYBACK_TTL_SECONDS = 600;

/** GET /api/replays/:id/chat?lang=: the reader's language (translations come in it). */
export const ReplayChatQuery = z.strictObject({ lang: Language.optional() });
export type ReplayChatQuery = z.infer<typeof ReplayChatQuery>;

/** The most messages a replay's chat answers (its first, in the order they were sent). */
export const REPLAY_CHAT_LIMIT = 2000;
