import {
  AddRoomModeratorRequest,
  AdminUserDetail,
  AdminUserSearchQuery,
  AdminUserSearchResponse,
  AttachStreamerRequest,
  AuditListResponse,
  AuditQuery,
  CreateReportRequest,
  CreateStudioRequest,
  EndLiveRequest,
  ErrorBody,
  LiveNowResponse,
  MyReport,
  MyReportsResponse,
  PlatformBlockedWords,
  ReinstateRequest,
  Report,
  ReportQueueQuery,
  ReportQueueResponse,
  ResolveReportRequest,
  Room,
  RoomId,
  RoomModerator,
  RoomModeratorsResponse,
  SetRoleRequest,
  Studio,
  StudiosResponse,
  SuspendRequest,
  Suspension,
  text,
  User,
  UserId,
} from '@fusionflow/protocol';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { HttpApp } from '../../http/http-app.js';
import type { ChatModeration } from '../chat/chat-moderation.js';
import { type AuthGuard, sessionOf } from '../identity/auth-guard.js';
import type { IdentityService } from '../identity/identity-service.js';
import type { RoomService } from '../rooms/room-service.js';
import type { AuditLog } from './audit-log.js';
import type { LiveNow } from './live-now.js';
import type { ReportService } from './report-service.js';
import type { RoomModerators } from './room-moderators.js';
import type { StudioService } from './studio-service.js';
import type { SuspensionService } from './suspension-service.js';
import type { UserDirectory } from './user-directory.js';

const UserParams = z.strictObject({ id: UserId });
const RoomParams = z.strictObject({ id: RoomId });
const ReportParams = z.strictObject({ id: text().min(1).max(64) });

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };

export interface GovernanceRoutesOptions {
  guard: AuthGuard;
  audit: AuditLog;
  identity: IdentityService;
  directory: UserDirectory;
  suspensions: SuspensionService;
  roomModerators: RoomModerators;
  reports: ReportService;
  liveNow: LiveNow;
  rooms: RoomService;
  moderation: ChatModeration;
  studios: StudioService;
}

/**
 * The governance API. Schemas and guards only; the services decide. Every /api/admin route checks
 * who is asking first (`onRequest`, before the body is even validated): a non-admin learns nothing.
 */
export function registerGovernanceRoutes(app: HttpApp, o: GovernanceRoutesOptions): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { guard, audit, identity, directory, suspensions, roomModerators, reports } = o;
  const { liveNow, rooms, moderation, studios } = o;

  r.get('/api/admin/live', {
    onRequest: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'Every live broadcast and call: viewers, duration, node',
      response: { 200: LiveNowResponse, ...errors },
    },
    handler: async () => ({ rooms: await liveNow.list() }),
  });

  r.post('/api/admin/live/:id/end', {
    onRequest: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'End a broadcast or call; its viewers and members are told the reason',
      params: RoomParams,
      body: EndLiveRequest,
      response: { 200: Room, ...errors },
    },
    handler: async (request) =>
      rooms.end(sessionOf(request), request.params.id, { requestId: request.id, reason: request.body.reason }),
  });

  r.get('/api/admin/blocked-words', {
    onRequest: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'Words blocked in every room (merged with each room’s own list)',
      response: { 200: PlatformBlockedWords, ...errors },
    },
    handler: async () => ({ words: await moderation.platformWords() }),
  });

  r.put('/api/admin/blocked-words', {
    onRequest: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'Replace the platform-wide blocked words',
      body: PlatformBlockedWords,
      response: { 200: PlatformBlockedWords, ...errors },
    },
    handler: async (request) => {
      const s = sessionOf(request);
      return {
        words: await moderation.setPlatformWords(
          { userId: s.userId, role: s.role, requestId: request.id },
          request.body.words,
        ),
      };
    },
  });

  r.get('/api/admin/studios', {
    onRequest: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'Studios, their streamers, their revenue share and what they earned',
      response: { 200: StudiosResponse, ...errors },
    },
    handler: async () => ({ studios: await studios.list() }),
  });

  r.post('/api/admin/studios', {
    onRequest: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'Create a studio account',
      body: CreateStudioRequest,
      response: { 201: Studio, ...errors },
    },
    handler: async (request, reply) =>
      reply.code(201).send(await studios.create(sessionOf(request), request.body, request.id)),
  });

  r.post('/api/admin/studios/:id/streamers', {
    onRequest: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'Attach a streamer to a studio',
      params: UserParams,
      body: AttachStreamerRequest,
      response: { 200: Studio, ...errors },
    },
    handler: async (request) => studios.attach(sessionOf(request), request.params.id, request.body.userId, request.id),
  });

  r.delete('/api/admin/studios/:id/streamers/:userId', {
    onRequest: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'Detach a streamer from a studio',
      params: z.strictObject({ id: UserId, userId: UserId }),
      response: { 200: Studio, ...errors },
    },
    handler: async (request) =>
      studios.detach(sessionOf(request), request.params.id, request.params.userId, request.id),
  });

  // Reports: any account files them; moderators and admins work the queue.
  r.post('/api/reports', {
    onRequest: guard.account,
    schema: {
      tags: ['governance'],
      summary: 'Report a chat message, a user or a broadcast (rate limited per account)',
      body: CreateReportRequest,
      response: { 201: MyReport, ...errors },
    },
    handler: async (request, reply) => reply.code(201).send(await reports.create(sessionOf(request), request.body)),
  });

  r.get('/api/reports', {
    onRequest: guard.account,
    schema: {
      tags: ['governance'],
      summary: 'My reports and whether they were handled',
      response: { 200: MyReportsResponse, ...errors },
    },
    handler: async (request) => ({ reports: await reports.mine(sessionOf(request)) }),
  });

  r.get('/api/admin/reports', {
    onRequest: guard.roles('moderator', 'admin'),
    schema: {
      tags: ['admin'],
      summary: 'The report queue, oldest first (without status: open and claimed)',
      querystring: ReportQueueQuery,
      response: { 200: ReportQueueResponse, ...errors },
    },
    handler: async (request) => ({ reports: await reports.queue(request.query) }),
  });

  r.post('/api/admin/reports/:id/claim', {
    onRequest: guard.roles('moderator', 'admin'),
    schema: {
      tags: ['admin'],
      summary: 'Claim a report to work on it',
      params: ReportParams,
      response: { 200: Report, ...errors },
    },
    handler: async (request) => reports.claim(sessionOf(request), request.params.id, request.id),
  });

  r.post('/api/admin/reports/:id/resolve', {
    onRequest: guard.roles('moderator', 'admin'),
    schema: {
      tags: ['admin'],
      summary: 'Resolve a report: dismiss, delete the message, mute or ban in its room, or suspend',
      params: ReportParams,
      body: ResolveReportRequest,
      response: { 200: Report, ...errors },
    },
    handler: async (request) => reports.resolve(sessionOf(request), request.params.id, request.body, request.id),
  });

  // Channel moderators: the room's owner (or an admin) appoints them; they moderate that room only.
  r.get('/api/rooms/:id/moderators', {
    onRequest: guard.account,
    schema: {
      tags: ['rooms'],
      summary: "The room's channel moderators (its owner, its moderators, platform staff)",
      params: RoomParams,
      response: { 200: RoomModeratorsResponse, ...errors },
    },
    handler: async (request) => ({ moderators: await roomModerators.list(sessionOf(request), request.params.id) }),
  });

  r.post('/api/rooms/:id/moderators', {
    onRequest: guard.account,
    schema: {
      tags: ['rooms'],
      summary: 'Appoint a channel moderator (room owner or admin)',
      params: RoomParams,
      body: AddRoomModeratorRequest,
      response: { 201: RoomModerator, ...errors },
    },
    handler: async (request, reply) =>
      reply
        .code(201)
        .send(await roomModerators.add(sessionOf(request), request.params.id, request.body.userId, request.id)),
  });

  r.delete('/api/rooms/:id/moderators/:userId', {
    onRequest: guard.account,
    schema: {
      tags: ['rooms'],
      summary: 'Remove a channel moderator (room owner or admin)',
      params: z.strictObject({ id: RoomId, userId: UserId }),
      response: { 204: z.null(), ...errors },
    },
    handler: async (request, reply) => {
      await roomModerators.remove(sessionOf(request), request.params.id, request.params.userId, request.id);
      return reply.code(204).send(null);
    },
  });
  const staff = guard.roles('moderator', 'admin');
  const admin = guard.roles('admin');

  r.get('/api/admin/users', {
    onRequest: staff,
    schema: {
      tags: ['admin'],
      summary: 'Search accounts by name or email (moderators and admins)',
      querystring: AdminUserSearchQuery,
      response: { 200: AdminUserSearchResponse, ...errors },
    },
    handler: async (request) => ({ users: await directory.search(request.query) }),
  });

  r.get('/api/admin/users/:id', {
    onRequest: staff,
    schema: {
      tags: ['admin'],
      summary: 'One account: role, sign-up date, balance, earnings, recent rooms, suspension, reports against it',
      params: UserParams,
      response: { 200: AdminUserDetail, ...errors },
    },
    handler: async (request) => directory.detail(request.params.id),
  });

  r.put('/api/admin/users/:id/role', {
    onRequest: admin,
    schema: {
      tags: ['admin'],
      summary: 'Give an account a role (admins only; the last admin keeps theirs)',
      params: UserParams,
      body: SetRoleRequest,
      response: { 200: User, ...errors },
    },
    handler: async (request) =>
      identity.setRole(sessionOf(request), request.params.id, request.body.role, {
        ...(request.body.reason ? { reason: request.body.reason } : {}),
        requestId: request.id,
      }),
  });

  r.post('/api/admin/users/:id/suspension', {
    onRequest: staff,
    schema: {
      tags: ['admin'],
      summary: 'Suspend an account: signed out everywhere, media and live rooms ended, sign-in refused until lifted',
      params: UserParams,
      body: SuspendRequest,
      response: { 200: Suspension, ...errors },
    },
    handler: async (request) => suspensions.suspend(sessionOf(request), request.params.id, request.body, request.id),
  });

  r.post('/api/admin/users/:id/reinstate', {
    onRequest: admin,
    schema: {
      tags: ['admin'],
      summary: 'Lift a suspension (admins only)',
      params: UserParams,
      body: ReinstateRequest,
      response: { 204: z.null(), ...errors },
    },
    handler: async (request, reply) => {
      await suspensions.reinstate(sessionOf(request), request.params.id, request.body, request.id);
      return reply.code(204).send(null);
    },
  });

  r.get('/api/admin/audit', {
    onRequest: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'The audit trail, newest first, filtered by actor, target, room, action and time',
      querystring: AuditQuery,
      response: { 200: AuditListResponse, ...errors },
    },
    handler: async (request) => audit.list(request.query),
  });

  r.get('/api/admin/audit/export', {
    onRequest: guard.roles('admin'),
    schema: {
      tags: ['admin'],
      summary: 'The filtered audit trail as CSV (text/csv), newest first',
      querystring: AuditQuery.omit({ limit: true, cursor: true }),
      response: errors,
    },
    handler: async (request, reply) => {
      const body = await audit.csv(request.query);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="audit.csv"')
        .header('cache-control', 'no-store')
        .send(body as never);
    },
  });
}
