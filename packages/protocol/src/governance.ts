import { z } from 'zod';
import { DisplayName, Email, Password, Role } from './identity.js';
import { RoomId, UserId } from './ids.js';
import { noNul, text } from './text.js';

/** An ISO 8601 time on the wire (`2025-01-31T12:00:00.000Z`). */
const IsoTime = z.iso.datetime({ offset: true }).check(noNul);

// --- audit trail -----------------------------------------------------------------------------

/**
 * What was done. Room moderation (`chat.*`, `room.*`), platform governance (`user.*`,
 * `report.*`, `live.*`, `platform.*`, `studio.*`) and money (`payout.*`).
 */
export const AuditAction = z.enum([
  'chat.delete',
  'chat.mute',
  'chat.unmute',
  'chat.ban',
  'chat.unban',
  'chat.settings',
  'room.end',
  'room.moderator_add',
  'room.moderator_remove',
  'user.role',
  'user.suspend',
  'user.reinstate',
  'payout.first_approval',
  'payout.approve',
  'payout.reject',
  'report.claim',
  'report.resolve',
  'live.end',
  'platform.blocked_words',
  'studio.create',
  'studio.attach',
  'studio.detach',
]);
export type AuditAction = z.infer<typeof AuditAction>;

export const AuditTargetType = z.enum(['user', 'room', 'message', 'payout', 'report', 'platform']);
export type AuditTargetType = z.infer<typeof AuditTargetType>;

/** One row of the append-only audit trail. */
export const AuditEvent = z.object({
  id: text(),
  at: text(),
  actorId: text().nullable(),
  actorName: text().nullable(),
  /** The actor's role when they acted (`owner` / `channel_moderator` for a room's own people). */
  actorRole: text().nullable(),
  action: AuditAction,
  targetType: AuditTargetType,
  targetId: text().nullable(),
  roomId: text().nullable(),
  reason: text().nullable(),
  /** The HTTP request (`x-request-id`) that did it; null for real-time messages. */
  requestId: text().nullable(),
  details: z.record(text(), z.unknown()),
});
export type AuditEvent = z.infer<typeof AuditEvent>;

export const AuditQuery = z.strictObject({
  actorId: UserId.optional(),
  /** The target's id (a user, room, payout, report…). */
  targetId: text().min(1).max(128).optional(),
  roomId: RoomId.optional(),
  action: AuditAction.optional(),
  /** Inclusive lower and exclusive upper bound on `at`. */
  from: IsoTime.optional(),
  to: IsoTime.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  /** The `nextCursor` of the previous page. */
  cursor: text()
    .regex(/^[0-9]{1,19}$/, 'cursor is not one this server gave out')
    .optional(),
});
export type AuditQuery = z.infer<typeof AuditQuery>;

export const AuditListResponse = z.object({ events: z.array(AuditEvent), nextCursor: text().nullable() });
export type AuditListResponse = z.infer<typeof AuditListResponse>;

/** Why something was done: required for suspensions and the like, shown to the person it concerns. */
export const Reason = text().trim().min(1, 'give a reason').max(500);

// --- users, roles and suspensions ------------------------------------------------------------

export const AdminUserSearchQuery = z.strictObject({
  /** Part of the display name or email (case-insensitive); empty: the newest accounts. */
  q: text().trim().max(100).optional(),
  role: Role.optional(),
  suspended: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export type AdminUserSearchQuery = z.infer<typeof AdminUserSearchQuery>;

export const Suspension = z.object({
  userId: UserId,
  reason: text(),
  /** Null: until lifted. */
  until: text().nullable(),
  by: text(),
  at: text(),
});
export type Suspension = z.infer<typeof Suspension>;

export const AdminUserSummary = z.object({
  id: UserId,
  email: text(),
  displayName: text(),
  role: Role,
  createdAt: text(),
  studioId: UserId.nullable(),
  suspension: Suspension.nullable(),
});
export type AdminUserSummary = z.infer<typeof AdminUserSummary>;

export const AdminUserSearchResponse = z.object({ users: z.array(AdminUserSummary) });
export type AdminUserSearchResponse = z.infer<typeof AdminUserSearchResponse>;

export const AdminUserDetail = AdminUserSummary.extend({
  /** Spendable tokens. */
  balance: z.number().int(),
  /** Earnings: available now, and everything earned (tips, tickets, calls). */
  earnings: z.object({ available: z.number().int(), total: z.number().int() }),
  recentRooms: z.array(
    z.object({ id: text(), kind: z.enum(['live', 'call']), title: text(), status: text(), createdAt: text() }),
  ),
  /** Reports against this user (newest first, at most 50). */
  reports: z.array(z.lazy(() => Report)),
});
export type AdminUserDetail = z.infer<typeof AdminUserDetail>;

export const SetRoleRequest = z.strictObject({ role: Role, reason: Reason.optional() });
export type SetRoleRequest = z.infer<typeof SetRoleRequest>;

export const SuspendRequest = z.strictObject({
  reason: Reason,
  /** When it ends by itself; omitted: until an admin reinstates. */
  until: IsoTime.optional(),
});
export type SuspendRequest = z.infer<typeof SuspendRequest>;

export const ReinstateRequest = z.strictObject({ reason: Reason.optional() });
export type ReinstateRequest = z.infer<typeof ReinstateRequest>;

/** `details` of a `suspended` error: why, and until when (null: until lifted). */
export const SuspendedDetails = z.object({ reason: text(), until: text().nullable() });
export type SuspendedDetails = z.infer<typeof SuspendedDetails>;

// --- channel moderators ----------------------------------------------------------------------

export const RoomModerator = z.object({
  roomId: RoomId,
  userId: UserId,
  displayName: text(),
  addedBy: text(),
  addedAt: text(),
});
export type RoomModerator = z.infer<typeof RoomModerator>;
export const RoomModeratorsResponse = z.object({ moderators: z.array(RoomModerator) });
export type RoomModeratorsResponse = z.infer<typeof RoomModeratorsResponse>;
export const AddRoomModeratorRequest = z.strictObject({ userId: UserId });
export type AddRoomModeratorRequest = z.infer<typeof AddRoomModeratorRequest>;

// --- reports ---------------------------------------------------------------------------------

export const ReportReason = z.enum(['spam', 'harassment', 'hate', 'sexual', 'violence', 'self_harm', 'scam', 'other']);
export type ReportReason = z.infer<typeof ReportReason>;
export const ReportStatus = z.enum(['open', 'claimed', 'resolved']);
export type ReportStatus = z.infer<typeof ReportStatus>;
export const ReportAction = z.enum(['dismiss', 'delete_message', 'mute', 'ban', 'suspend']);
export type ReportAction = z.infer<typeof ReportAction>;

/** A report names exactly one thing: a chat message (in its room), a user, or a broadcast (a live room). */
export const ReportTarget = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('message'), roomId: RoomId, messageId: text().regex(/^[0-9]{1,19}$/) }),
  z.strictObject({ type: z.literal('user'), userId: UserId }),
  z.strictObject({ type: z.literal('broadcast'), roomId: RoomId }),
]);
export type ReportTarget = z.infer<typeof ReportTarget>;

export const CreateReportRequest = z.strictObject({
  target: ReportTarget,
  reason: ReportReason,
  note: text().trim().max(1000).optional(),
});
export type CreateReportRequest = z.infer<typeof CreateReportRequest>;

export const Report = z.object({
  id: text(),
  reporterId: UserId,
  target: ReportTarget,
  /** The user the report is about (the message's author, the user, the broadcast's owner). */
  subjectUserId: UserId.nullable(),
  /** The reported message's text as it was when reported. */
  messageText: text().nullable(),
  reason: ReportReason,
  note: text().nullable(),
  status: ReportStatus,
  claimedBy: text().nullable(),
  resolvedBy: text().nullable(),
  action: ReportAction.nullable(),
  resolution: text().nullable(),
  createdAt: text(),
  resolvedAt: text().nullable(),
});
export type Report = z.infer<typeof Report>;

/** What a reporter sees of their own report: that it was handled, not by whom. */
export const MyReport = Report.pick({
  id: true,
  target: true,
  reason: true,
  note: true,
  status: true,
  action: true,
  createdAt: true,
  resolvedAt: true,
});
export type MyReport = z.infer<typeof MyReport>;
export const MyReportsResponse = z.object({ reports: z.array(MyReport) });

export const ReportQueueQuery = z.strictObject({
  status: ReportStatus.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(100),
});
export const ReportQueueResponse = z.object({ reports: z.array(Report) });
export type ReportQueueResponse = z.infer<typeof ReportQueueResponse>;

export const ResolveReportRequest = z.strictObject({
  action: ReportAction,
  /** A note for the record (the audit trail). */
  note: text().trim().max(1000).optional(),
  /** `mute`: for how long (default 10 minutes). */
  durationSeconds: z.number().int().min(1).max(604_800).optional(),
  /** `suspend`: until when (omitted: until lifted). */
  until: IsoTime.optional(),
});
export type ResolveReportRequest = z.infer<typeof ResolveReportRequest>;

// --- live now, platform words, studios -------------------------------------------------------

export const LiveNowItem = z.object({
  roomId: RoomId,
  kind: z.enum(['live', 'call']),
  title: text(),
  ownerId: UserId,
  ownerName: text(),
  /** Viewers (live) or members (call). */
  viewers: z.number().int(),
  startedAt: text().nullable(),
  durationSeconds: z.number().int(),
  /** Where the media runs: the SFU node (live), `p2p` (calls). */
  node: text(),
});
export type LiveNowItem = z.infer<typeof LiveNowItem>;
export const LiveNowResponse = z.object({ rooms: z.array(LiveNowItem) });
export type LiveNowResponse = z.infer<typeof LiveNowResponse>;

export const EndLiveRequest = z.strictObject({ reason: Reason });
export type EndLiveRequest = z.infer<typeof EndLiveRequest>;

export const PlatformBlockedWords = z.strictObject({
  /** Replaces the list; merged with each room's own list. */
  words: z.array(text().trim().toLowerCase().min(1).max(100)).max(1000),
});
export type PlatformBlockedWords = z.infer<typeof PlatformBlockedWords>;

export const CreateStudioRequest = z.strictObject({
  email: Email,
  displayName: DisplayName,
  password: Password,
});
export type CreateStudioRequest = z.infer<typeof CreateStudioRequest>;

export const Studio = z.object({
  id: UserId,
  displayName: text(),
  email: text(),
  /** Percent of what remains after the platform fee that goes to the studio (`STUDIO_SHARE_PERCENT`). */
  sharePercent: z.number(),
  streamers: z.array(z.object({ id: UserId, displayName: text() })),
  /** Everything the studio has earned from its streamers. */
  earned: z.number().int(),
});
export type Studio = z.infer<typeof Studio>;
export const StudiosResponse = z.object({ studios: z.array(Studio) });
export type StudiosResponse = z.infer<typeof StudiosResponse>;
export const AttachStreamerRequest = z.strictObject({ userId: UserId });
export type AttachStreamerRequest = z.infer<typeof AttachStreamerRequest>;
