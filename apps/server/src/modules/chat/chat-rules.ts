import { AppError, forbidden } from '@fusionflow/kit';
import { ErrorCode, type Room, type RoomId, type UserId } from '@fusionflow/protocol';
import type { Session } from '../identity/access-tokens.js';
import {
  type ChatModeration,
  findBlockedWord,
  type ModerationActor,
  type Restrictions,
  type RoomChatSettings,
} from './chat-moderation.js';

/** Platform roles that moderate every room. */
const MODERATOR_ROLES = new Set(['moderator', 'admin']);

/** Who moderates a room: its owner (the streamer) and the platform's moderators and admins. */
export function canModerate(session: Pick<Session, 'userId' | 'role'>, room: Pick<Room, 'ownerId'>): boolean {
  return session.userId === room.ownerId || MODERATOR_ROLES.has(session.role);
}

/** How the audit trail names someone who moderates a room: its owner, or their platform role. */
export function moderationActor(
  session: Pick<Session, 'userId' | 'role'>,
  room: Pick<Room, 'ownerId'>,
): ModerationActor {
  return { userId: session.userId, role: session.userId === room.ownerId ? 'owner' : session.role };
}

/**
 * What a room lets a user say, wherever the words appear: a chat message, or the message of a tip
 * (checked before any money moves, so a refused tip costs nothing). The rules are the room's
 * bans, mutes and blocked words, and the platform's longest message; those who moderate the room
 * are held to the length only. A ban also refuses a tip without words: a banned user gives
 * nothing into that room.
 */
export class ChatRules {
  constructor(
    private readonly o: {
      moderation: ChatModeration;
      maxLength: number;
      /** Channel moderators: accounts the owner appointed to moderate one room. */
      roomModerators?: { isModerator(roomId: RoomId, userId: string): Promise<boolean> };
    },
  ) {}

  /**
   * Who moderates the room, as the audit trail names them — its owner, a platform moderator or
   * admin, or one of its channel moderators (that room only) — or null for everyone else.
   */
  async moderator(session: Session, room: Pick<Room, 'id' | 'ownerId'>): Promise<ModerationActor | null> {
    if (canModerate(session, room)) return moderationActor(session, room);
    if (session.isGuest || !this.o.roomModerators) return null;
    return (await this.o.roomModerators.isModerator(room.id, session.userId))
      ? { userId: session.userId, role: 'channel_moderator' }
      : null;
  }

  /** Does this user moderate the room (the owner, a channel moderator or platform staff by `role`)? */
  async moderates(roomId: RoomId, ownerId: string, userId: string, role?: string): Promise<boolean> {
    if (userId === ownerId || (role !== undefined && MODERATOR_ROLES.has(role))) return true;
    return (await this.o.roomModerators?.isModerator(roomId, userId)) ?? false;
  }

  /** Longest message, in characters. */
  get maxLength(): number {
    return this.o.maxLength;
  }

  checkLength(text: string): void {
    if ([...text].length > this.o.maxLength) {
      throw new AppError(ErrorCode.PayloadTooLarge, `a message has ${this.o.maxLength} characters at most`);
    }
  }

  /**
   * The one ban check (joining, chat, tips, media grants): refuses a user banned from the room.
   * `fresh` reads the database, not the 5-second cache (grants: another process may have just banned).
   */
  async checkNotBanned(roomId: RoomId, userId: UserId, o: { fresh?: boolean } = {}): Promise<void> {
    refuseBanned(await this.o.moderation.restrictions(roomId, userId, o));
  }

  /** Refuses a user who is banned (or, with `mute`, muted) in the room. */
  async checkSender(roomId: RoomId, userId: UserId, o: { mute: boolean }): Promise<void> {
    const restrictions = await this.o.moderation.restrictions(roomId, userId);
    refuseBanned(restrictions);
    if (o.mute && restrictions.mutedUntil !== undefined) {
      throw new AppError(ErrorCode.Muted, 'you are muted in this room', {
        retryAfterSeconds: Math.ceil((restrictions.mutedUntil - Date.now()) / 1000),
      });
    }
  }

  /** The room's blocked words and the platform's, merged. */
  async checkWords(text: string, settings: RoomChatSettings): Promise<void> {
    const platform = await this.o.moderation.platformWords();
    const blocked =
      findBlockedWord(text, settings.blockedWords) ?? (platform.length ? findBlockedWord(text, platform) : undefined);
    if (blocked) throw new AppError(ErrorCode.MessageBlocked, `the message contains a blocked word: "${blocked}"`);
  }

  /** A tip into a room, with or without a message: throws the chat's own error when the room refuses it. */
  async checkTip(room: Pick<Room, 'id' | 'ownerId'>, session: Session, message: string | null): Promise<void> {
    if (message !== null) this.checkLength(message);
    if (await this.moderator(session, room)) return;
    await this.checkSender(room.id, session.userId, { mute: message !== null });
    if (message !== null) await this.checkWords(message, await this.o.moderation.settings(room.id));
  }
}

function refuseBanned(restrictions: Restrictions): void {
  if (restrictions.banned) throw forbidden('you are banned from this room', ErrorCode.Banned);
}
