import { networkInterfaces } from 'node:os';
import { AppError } from '@fusionflow/kit';
import {
  ErrorCode,
  SfuDrainRequest,
  type SfuDrainResponse,
  type SfuNetworkInfo,
  SfuRevocationRequest,
  type SfuRevocationResponse,
  type SfuRoomsResponse,
} from '@fusionflow/protocol';
import type { GrantRevocations } from '../auth/grant-revocations.js';
import type { RoomManager } from '../room/room-manager.js';
import type { SfuHttpApp } from './http-app.js';
import { internalSignatureCheck } from './internal-signature-check.js';

export interface AdvertisedNetwork {
  iceAddresses: readonly string[];
  iceOnlyAddresses: boolean;
  icePortRange: readonly [number, number] | undefined;
}

/**
 * The admin API the control plane calls (signed with the shared secret, like events): list rooms
 * and sessions, close a room, kick a session, drain the node, revoke a user's grants (and end their sessions), and
 * what the SFU advertises for ICE (the doctor's check). Never exposed through the control plane or nginx.
 */
export function registerAdminRoutes(
  app: SfuHttpApp,
  o: {
    rooms: RoomManager;
    secret: string;
    revocations: GrantRevocations;
    network: AdvertisedNetwork;
    /** Start draining the node (see NodeDrain). */
    drain?: (deadlineSeconds?: number) => SfuDrainResponse;
  },
): void {
  const check = internalSignatureCheck(o.secret);

  app.get(
    '/api/admin/rooms',
    { preHandler: check },
    async (): Promise<SfuRoomsResponse> => ({ rooms: o.rooms.list() }),
  );

  app.get(
    '/api/admin/network',
    { preHandler: check },
    async (): Promise<SfuNetworkInfo> => ({
      iceAddresses: [...o.network.iceAddresses],
      iceOnlyAddresses: o.network.iceOnlyAddresses,
      icePortRange: o.network.icePortRange ? [o.network.icePortRange[0], o.network.icePortRange[1]] : null,
      interfaces: Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address)),
      time: new Date().toISOString(),
    }),
  );

  app.delete<{ Params: { room: string } }>('/api/admin/rooms/:room', { preHandler: check }, async (request, reply) => {
    const closed = await o.rooms.closeRoom(request.params.room, 'room_closed');
    return reply.code(closed ? 200 : 404).send({ closed });
  });

  app.delete<{ Params: { id: string } }>('/api/admin/sessions/:id', { preHandler: check }, async (request, reply) => {
    const kicked = await o.rooms.kick(request.params.id);
    return reply.code(kicked ? 200 : 404).send({ kicked });
  });

  // Drain: no new sessions; the node exits when its last session ends or at the deadline.
  app.post('/api/admin/drain', { preHandler: check }, async (request): Promise<SfuDrainResponse> => {
    const parsed = SfuDrainRequest.safeParse(request.body ?? {});
    if (!parsed.success) throw new AppError(ErrorCode.ValidationFailed, 'expected { deadlineSeconds? }');
    if (!o.drain) throw new AppError(ErrorCode.Unavailable, 'this SFU cannot drain');
    return o.drain(parsed.data.deadlineSeconds);
  });

  // A ban (one room) or a suspension (every room): the user's grants issued so far stop working and
  // their sessions end now; a grant issued later (after an unban) is let in again.
  app.post('/api/admin/revocations', { preHandler: check }, async (request): Promise<SfuRevocationResponse> => {
    const parsed = SfuRevocationRequest.safeParse(request.body);
    if (!parsed.success) {
      throw new AppError(ErrorCode.ValidationFailed, 'expected { userId, room?, issuedBefore }', {
        issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    }
    const { userId, room = null, issuedBefore } = parsed.data;
    o.revocations.revoke(userId, room, issuedBefore);
    const kicked = await o.rooms.kickUser(userId, room, 'revoked');
    request.log.info({ userId, roomId: room, kicked }, 'grants revoked');
    return { kicked };
  });
}
