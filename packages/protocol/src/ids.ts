import type { z } from 'zod';
import { text } from './text.js';

/** Room ids are URL-safe: `^[A-Za-z0-9_-]{1,64}$` (the WHIP/WHEP path segment). */
export const ROOM_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export const RoomId = text().regex(ROOM_ID_PATTERN, 'room id must match ^[A-Za-z0-9_-]{1,64}$').brand<'RoomId'>();
export type RoomId = z.infer<typeof RoomId>;

export const UserId = text().min(1).max(64).brand<'UserId'>();
export type UserId = z.infer<typeof UserId>;

export const PeerId = text().min(1).max(64).brand<'PeerId'>();
export type PeerId = z.infer<typeof PeerId>;

/** Brand a value already known to be valid (e.g. read back from the database). */
export const asRoomId = (value: string): RoomId => value as RoomId;
export const asUserId = (value: string): UserId => value as UserId;
export const asPeerId = (value: string): PeerId => value as PeerId;
