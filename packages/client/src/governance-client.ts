import {
  AdminUserDetail,
  AdminUserSearchResponse,
  AuditListResponse,
  type AuditQuery,
  type CreateReportRequest,
  type CreateStudioRequest,
  LiveNowResponse,
  MyReport,
  MyReportsResponse,
  PlatformBlockedWords,
  Report,
  ReportQueueResponse,
  type ReportStatus,
  type ResolveReportRequest,
  type Role,
  Room,
  RoomModerator,
  RoomModeratorsResponse,
  Studio,
  StudiosResponse,
  Suspension,
  User,
} from '@fusionflow/protocol';
import type { ApiClient } from './api-client.js';

const query = (params: object) => {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') q.set(key, String(value));
  const text = q.toString();
  return text ? `?${text}` : '';
};
const id = encodeURIComponent;

/** Governance: reports, channel moderators and the admin console's endpoints, on the same session. */
export class GovernanceClient {
  constructor(private readonly api: ApiClient) {}

  // --- everyone -----------------------------------------------------------------------------------
  report(req: CreateReportRequest): Promise<MyReport> {
    return this.api.request({ method: 'POST', path: '/api/reports', body: req, schema: MyReport, auth: true });
  }
  async myReports(): Promise<MyReport[]> {
    return (await this.api.request({ method: 'GET', path: '/api/reports', schema: MyReportsResponse, auth: true }))
      .reports;
  }

  // --- room owners --------------------------------------------------------------------------------
  async roomModerators(roomId: string): Promise<RoomModerator[]> {
    const path = `/api/rooms/${id(roomId)}/moderators`;
    return (await this.api.request({ method: 'GET', path, schema: RoomModeratorsResponse, auth: true })).moderators;
  }
  addRoomModerator(roomId: string, userId: string): Promise<RoomModerator> {
    const path = `/api/rooms/${id(roomId)}/moderators`;
    return this.api.request({ method: 'POST', path, body: { userId }, schema: RoomModerator, auth: true });
  }
  removeRoomModerator(roomId: string, userId: string): Promise<void> {
    const path = `/api/rooms/${id(roomId)}/moderators/${id(userId)}`;
    return this.api.request({ method: 'DELETE', path, auth: true });
  }

  // --- moderators and admins ----------------------------------------------------------------------
  async searchUsers(params: { q?: string; role?: Role; suspended?: boolean; limit?: number } = {}) {
    const path = `/api/admin/users${query(params)}`;
    return (await this.api.request({ method: 'GET', path, schema: AdminUserSearchResponse, auth: true })).users;
  }
  user(userId: string): Promise<AdminUserDetail> {
    return this.api.request({
      method: 'GET',
      path: `/api/admin/users/${id(userId)}`,
      schema: AdminUserDetail,
      auth: true,
    });
  }
  setRole(userId: string, role: Role, reason?: string): Promise<User> {
    const path = `/api/admin/users/${id(userId)}/role`;
    return this.api.request({
      method: 'PUT',
      path,
      body: { role, ...(reason ? { reason } : {}) },
      schema: User,
      auth: true,
    });
  }
  suspend(userId: string, reason: string, until?: string): Promise<Suspension> {
    const path = `/api/admin/users/${id(userId)}/suspension`;
    const body = { reason, ...(until ? { until } : {}) };
    return this.api.request({ method: 'POST', path, body, schema: Suspension, auth: true });
  }
  reinstate(userId: string, reason?: string): Promise<void> {
    const path = `/api/admin/users/${id(userId)}/reinstate`;
    return this.api.request({ method: 'POST', path, body: reason ? { reason } : {}, auth: true });
  }
  async reportQueue(status?: ReportStatus): Promise<Report[]> {
    const path = `/api/admin/reports${query({ status })}`;
    return (await this.api.request({ method: 'GET', path, schema: ReportQueueResponse, auth: true })).reports;
  }
  claimReport(reportId: string): Promise<Report> {
    const path = `/api/admin/reports/${id(reportId)}/claim`;
    return this.api.request({ method: 'POST', path, schema: Report, auth: true });
  }
  resolveReport(reportId: string, req: ResolveReportRequest): Promise<Report> {
    const path = `/api/admin/reports/${id(reportId)}/resolve`;
    return this.api.request({ method: 'POST', path, body: req, schema: Report, auth: true });
  }

  // --- admins -------------------------------------------------------------------------------------
  audit(params: Partial<AuditQuery> = {}): Promise<AuditListResponse> {
    return this.api.request({
      method: 'GET',
      path: `/api/admin/audit${query(params)}`,
      schema: AuditListResponse,
      auth: true,
    });
  }
  /** The CSV export's path for these filters (fetch it with the access token). */
  auditCsvPath(params: Partial<AuditQuery> = {}): string {
    const { limit: _l, cursor: _c, ...filters } = params;
    return `/api/admin/audit/export${query(filters)}`;
  }
  async liveNow() {
    return (await this.api.request({ method: 'GET', path: '/api/admin/live', schema: LiveNowResponse, auth: true }))
      .rooms;
  }
  endLive(roomId: string, reason: string): Promise<Room> {
    const path = `/api/admin/live/${id(roomId)}/end`;
    return this.api.request({ method: 'POST', path, body: { reason }, schema: Room, auth: true });
  }
  async blockedWords(): Promise<string[]> {
    return (
      await this.api.request({
        method: 'GET',
        path: '/api/admin/blocked-words',
        schema: PlatformBlockedWords,
        auth: true,
      })
    ).words;
  }
  async setBlockedWords(words: string[]): Promise<string[]> {
    const path = '/api/admin/blocked-words';
    return (await this.api.request({ method: 'PUT', path, body: { words }, schema: PlatformBlockedWords, auth: true }))
      .words;
  }
  async studios(): Promise<Studio[]> {
    return (await this.api.request({ method: 'GET', path: '/api/admin/studios', schema: StudiosResponse, auth: true }))
      .studios;
  }
  createStudio(req: CreateStudioRequest): Promise<Studio> {
    return this.api.request({ method: 'POST', path: '/api/admin/studios', body: req, schema: Studio, auth: true });
  }
  attachStreamer(studioId: string, userId: string): Promise<Studio> {
    const path = `/api/admin/studios/${id(studioId)}/streamers`;
    return this.api.request({ method: 'POST', path, body: { userId }, schema: Studio, auth: true });
  }
  detachStreamer(studioId: string, userId: string): Promise<Studio> {
    const path = `/api/admin/studios/${id(studioId)}/streamers/${id(userId)}`;
    return this.api.request({ method: 'DELETE', path, schema: Studio, auth: true });
  }
}
