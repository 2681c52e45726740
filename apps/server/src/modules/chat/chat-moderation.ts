import type { RoomId, UserId } from '@fusionflow/protocol';
import type { Kysely } from 'kysely';
import { LRUCache } from 'lru-cache';
import type { Database } from '../../db/schema.js';
import type { AuditLog } from '../governance/audit-log.js';

export interface RoomChatSettings {
  slowModeSeconds: number;
  blockedWords: string[];
}

export interface Restrictions {
  /** Epoch ms when the mute ends; undefined when not muted. */
  mutedUntil?: number;
  banned: boolean;
}

export type ModerationAction = 'delete' | 'mute' | 'unmute' | 'ban' | 'unban' | 'settings';

/** Who moderates, as the audit trail records them. */
export interface ModerationActor {
  userId: UserId;
  /** `owner`, `channel_moderator`, or the platform role (`moderator`, `admin`). */
  role: string;
  /** The HTTP request that did it (report resolutions); null for real-time messages. */
  requestId?: string | null;
}

export interface ModerationRecord {
  roomId: RoomId;
  actor: ModerationActor;
  action: ModerationAction;
  targetUserId?: UserId;
  messageId?: number;
  details?: Record<string, unknown>;
}

const NO_SETTINGS: RoomChatSettings = Object.freeze({ slowModeSeconds: 0, blockedWords: [] });

/**
 * Room mutes and bans, chat settings (slow mode, blocked words) and the audit trail of every
 * moderation action, in the database. The hot path (every message asks "is the sender muted,
 * what are the room's settings") reads through a short per-process cache that this process's own
 * changes clear at once; another process's change shows within `cacheTtlMs`.
 */
export class ChatModeration {
  readonly #settings: LRUCache<RoomId, RoomChatSettings>;
  readonly #restrictions: LRUCache<string, Restrictions>;

  readonly #audit: AuditLog | undefined;
  /** The platform-wide blocked words, for a short while (this process's change replaces it at once). */
  readonly #platformWords: LRUCache<'words', string[]>;

  constructor(
    private readonly db: Kysely<Database>,
    o: { cacheTtlMs?: number; audit?: AuditLog } = {},
  ) {
    this.#settings = new LRUCache({ max: 10_000, ttl: o.cacheTtlMs ?? 5000 });
    this.#restrictions = new LRUCache({ max: 100_000, ttl: o.cacheTtlMs ?? 5000 });
    this.#audit = o.audit;
    this.#platformWords = new LRUCache({ max: 1, ttl: o.cacheTtlMs ?? 5000 });
  }

  /** Words blocked in every room (merged with each room's own list), lower-case. */
  async platformWords(): Promise<string[]> {
    const cached = this.#platformWords.get('words');
    if (cached) return cached;
    const row = await this.db
      .selectFrom('platform_settings')
      .select('value')
      .where('name', '=', 'blocked_words')
      .executeTakeFirst();
    const words = Array.isArray(row?.value) ? (row.value as string[]) : [];
    this.#platformWords.set('words', words);
    return words;
  }

  /** Replace the platform-wide blocked words (admins), recorded in the audit trail. */
  async setPlatformWords(actor: ModerationActor, words: string[]): Promise<string[]> {
    const next = [...new Set(words)];
    const previous = await this.platformWords();
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('platform_settings')
        .values({ name: 'blocked_words', value: JSON.stringify(next), updated_by: actor.userId })
        .onConflict((oc) =>
          oc
            .column('name')
            .doUpdateSet({ value: JSON.stringify(next), updated_by: actor.userId, updated_at: new Date() }),
        )
        .execute();
      await this.#audit?.record(
        {
          actorId: actor.userId,
          actorRole: actor.role,
          action: 'platform.blocked_words',
          targetType: 'platform',
          targetId: 'blocked_words',
          requestId: actor.requestId ?? null,
          details: {
            added: next.filter((w) => !previous.includes(w)),
            removed: previous.filter((w) => !next.includes(w)),
          },
        },
        tx,
      );
    });
    this.#platformWords.set('words', next);
    return next;
  }

  async settings(roomId: RoomId): Promise<RoomChatSettings> {
    const cached = this.#settings.get(roomId);
    if (cached) return cached;
    const row = await this.db
      .selectFrom('chat_room_settings')
      .select(['slow_mode_seconds', 'blocked_words'])
      .where('room_id', '=', roomId)
      .executeTakeFirst();
    const settings = row ? { slowModeSeconds: row.slow_mode_seconds, blockedWords: row.blocked_words } : NO_SETTINGS;
    this.#settings.set(roomId, settings);
    return settings;
  }

  async updateSettings(
    roomId: RoomId,
    actor: ModerationActor,
    patch: Partial<RoomChatSettings>,
  ): Promise<RoomChatSettings> {
    const current = await this.settings(roomId);
    const next: RoomChatSettings = {
      slowModeSeconds: patch.slowModeSeconds ?? current.slowModeSeconds,
      blockedWords: patch.blockedWords ? [...new Set(patch.blockedWords)] : current.blockedWords,
    };
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('chat_room_settings')
        .values({
          room_id: roomId,
          slow_mode_seconds: next.slowModeSeconds,
          blocked_words: next.blockedWords,
          updated_by: actor.userId,
        })
        .onConflict((oc) =>
          oc.column('room_id').doUpdateSet({
            slow_mode_seconds: next.slowModeSeconds,
            blocked_words: next.blockedWords,
            updated_by: actor.userId,
            updated_at: new Date(),
          }),
        )
        .execute();
      await this.#record(tx, { roomId, actor, action: 'settings', details: { ...patch } });
    });
    this.#settings.set(roomId, next);
    return next;
  }

  /** A user's mute and ban in a room; `fresh` skips the cache (media grants: another process may have banned). */
  async restrictions(roomId: RoomId, userId: UserId, o: { fresh?: boolean } = {}): Promise<Restrictions> {
    const key = `${roomId} ${userId}`;
    const cached = o.fresh ? undefined : this.#restrictions.get(key);
    if (cached && (cached.mutedUntil === undefined || cached.mutedUntil > Date.now())) return cached;
    const rows = await this.db
      .selectFrom('chat_restrictions')
      .select(['kind', 'until'])
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .execute();
    const now = Date.now();
    const mute = rows.find((r) => r.kind === 'mute' && r.until !== null && r.until.getTime() > now);
    const out: Restrictions = {
      banned: rows.some((r) => r.kind === 'ban' && (r.until === null || r.until.getTime() > now)),
      ...(mute?.until ? { mutedUntil: mute.until.getTime() } : {}),
    };
    this.#restrictions.set(key, out);
    return out;
  }

  /** Mute (until a time) or ban (until lifted) a user in a room, recording who did it. */
  async restrict(
    roomId: RoomId,
    actor: ModerationActor,
    userId: UserId,
    kind: 'mute' | 'ban',
    until: Date | null,
    reason?: string,
  ): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('chat_restrictions')
        .values({ room_id: roomId, user_id: userId, kind, until, created_by: actor.userId, reason: reason ?? null })
        .onConflict((oc) =>
          oc
            .columns(['room_id', 'user_id', 'kind'])
            .doUpdateSet({ until, created_by: actor.userId, reason: reason ?? null, created_at: new Date() }),
        )
        .execute();
      await this.#record(tx, {
        roomId,
        actor,
        action: kind,
        targetUserId: userId,
        details: { ...(until ? { until: until.toISOString() } : {}), ...(reason ? { reason } : {}) },
      });
    });
    this.#restrictions.delete(`${roomId} ${userId}`);
  }

  /** Lift a mute or a ban; false when there was none. */
  async lift(roomId: RoomId, actor: ModerationActor, userId: UserId, kind: 'mute' | 'ban'): Promise<boolean> {
    const lifted = await this.db.transaction().execute(async (tx) => {
      const result = await tx
        .deleteFrom('chat_restrictions')
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .where('kind', '=', kind)
        .executeTakeFirst();
      await this.#record(tx, { roomId, actor, action: kind === 'mute' ? 'unmute' : 'unban', targetUserId: userId });
      return result.numDeletedRows > 0n;
    });
    this.#restrictions.delete(`${roomId} ${userId}`);
    return lifted;
  }

  /** Record an action taken elsewhere (a moderator deleted a message). */
  async record(entry: ModerationRecord): Promise<void> {
    await this.db.transaction().execute((tx) => this.#record(tx, entry));
  }

  /** The room's audit trail, newest first. */
  async actions(roomId: RoomId, limit = 100) {
    return this.db
      .selectFrom('chat_moderation_actions')
      .selectAll()
      .where('room_id', '=', roomId)
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
  }

  /** The room's own record and the platform's audit trail, in one transaction with the action. */
  async #record(db: Kysely<Database>, e: ModerationRecord): Promise<void> {
    await this.#audit?.record(
      {
        actorId: e.actor.userId,
        actorRole: e.actor.role,
        action: `chat.${e.action}`,
        targetType: e.messageId !== undefined ? 'message' : e.targetUserId ? 'user' : 'room',
        targetId: e.messageId !== undefined ? String(e.messageId) : (e.targetUserId ?? e.roomId),
        roomId: e.roomId,
        reason: typeof e.details?.reason === 'string' ? e.details.reason : null,
        requestId: e.actor.requestId ?? null,
        details: { ...e.details, ...(e.targetUserId ? { userId: e.targetUserId } : {}) },
      },
      db,
    );
    await db
      .insertInto('chat_moderation_actions')
      .values({
        room_id: e.roomId,
        actor_id: e.actor.userId,
        action: e.action,
        target_user_id: e.targetUserId ?? null,
        message_id: e.messageId ?? null,
        details: JSON.stringify(e.details ?? {}),
      })
      .execute();
  }
}

/** The first blocked word the text contains as a whole word (case-insensitive), if any. */
export function findBlockedWord(text: string, words: readonly string[]): string | undefined {
  if (words.length === 0) return undefined;
  const tokens = new Set(text.toLowerCase().split(/[^\p{L}\p{N}']+/u));
  for (const w of words) {
    if (w.includes(' ')) {
      if (text.toLowerCase().includes(w)) return w;
    } else if (tokens.has(w)) return w;
  }
  return undefined;
}
