import { AppError } from '@fusionflow/kit';
import { ErrorCode, RELAY_PATH, type RelayAnswer, RelayRequest } from '@fusionflow/protocol';
import { describeTrack } from '../relay/origin-relay.js';
import type { RoomManager } from '../room/room-manager.js';
import type { SfuHttpApp } from './http-app.js';
import { internalSignatureCheck } from './internal-signature-check.js';

/**
 * An edge node asks this node, the room's origin, for a relay (signed with INTERNAL_SECRET, like the admin API):
 * 201 with the origin's relay socket, its key and the tracks; 409 `no_publisher` when nobody publishes the room here.
 */
export function registerRelayRoutes(app: SfuHttpApp, o: { rooms: RoomManager; secret: string; host: string }): void {
  app.post(RELAY_PATH, { preHandler: internalSignatureCheck(o.secret) }, async (request, reply) => {
    const parsed = RelayRequest.safeParse(request.body);
    if (!parsed.success) {
      throw new AppError(ErrorCode.ValidationFailed, 'expected { room, edge, host, port, key }', {
        issues: parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      });
    }
    const room = o.rooms.room(parsed.data.room);
    if (!room) throw new AppError(ErrorCode.NoPublisher, `nobody is publishing to room ${parsed.data.room}`);
    const relay = await room.openRelay(parsed.data);
    const answer: RelayAnswer = {
      relayId: relay.id,
      host: o.host,
      port: relay.port,
      key: relay.publicKey,
      tracks: relay.tracks.map((t, i) => describeTrack(t, i)),
    };
    return reply.code(201).send(answer);
  });
}
