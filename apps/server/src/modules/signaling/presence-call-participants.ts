import type { CallBillingMessage, PeerId, RemovedMessage, RoomId } from '@fusionflow/protocol';
import type { RealtimeGateway } from '../realtime/realtime-gateway.js';
import type { RoomPresence } from '../realtime/room-presence.js';
import type { MemberRecord } from '../realtime/room-state-store.js';
import type { CallParticipants, CallParticipantsEvents } from '../wallet/call-participants.js';

/**
 * Call billing's view of a call (CallParticipants), answered by presence (slots, joins and
 * departures) and the gateway (billing messages to a peer). Holds nothing of its own: a listener
 * it adds to presence goes with the removal it returns.
 */
export class PresenceCallParticipants implements CallParticipants {
  constructor(
    private readonly presence: RoomPresence,
    private readonly gateway: RealtimeGateway,
  ) {}

  slots(roomId: RoomId): Promise<MemberRecord[]> {
    return this.presence.members(roomId);
  }

  on<K extends keyof CallParticipantsEvents>(
    _event: K,
    listener: (value: CallParticipantsEvents[K]) => void,
  ): () => void {
    const tell = listener as (value: CallParticipantsEvents['slot']) => void;
    return this.presence.on('presence', (event) => {
      if (event.type === 'joined') tell({ type: 'joined', roomId: event.roomId, member: event.member });
      else if (event.type === 'left') {
        tell({ type: 'left', roomId: event.roomId, member: event.member, ended: event.reason === 'ended' });
      }
      // 'disconnected': the slot is still held (it waits), so nothing changed for billing.
    });
  }

  tell(peerId: PeerId, message: CallBillingMessage): void {
    this.gateway.emitToPeer(peerId, 'billing', message);
  }

  remove(roomId: RoomId, peerId: PeerId, notice: RemovedMessage): Promise<boolean> {
    return this.presence.remove(roomId, peerId, notice);
  }
}
