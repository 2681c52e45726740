import type { CallBillingMessage, PeerId, RemovedMessage, RoomId } from '@fusionflow/protocol';

/**
 * One member of a paid call as billing sees it: who holds the slot, on which connection, and
 * whether that connection is up. A slot whose connection dropped still counts while it waits for
 * it to come back (peer-to-peer media may still flow).
 */
export interface CallSlot {
  readonly peerId: PeerId;
  readonly userId: string;
  /** The connection holding the slot; a resume on another connection takes the slot over. */
  readonly connection: string;
  /** False while a dropped connection's slot waits for it (until its grace period ends). */
  readonly connected: boolean;
}

/** A slot was taken (a join or a resume) or given up (left, released, removed, the room ended). */
export type CallSlotEvent =
  | { type: 'joined'; roomId: RoomId; member: CallSlot }
  | { type: 'left'; roomId: RoomId; member: CallSlot /** The room ended (not the member leaving). */; ended: boolean };

export interface CallParticipantsEvents {
  [event: string]: unknown;
  /** Slots taken and given up in every room this process serves. */
  slot: CallSlotEvent;
}

/**
 * What call billing needs from the real-time side, and nothing more: who holds a slot in a room,
 * news of slots taken and given up, a way to tell a member's client where the meter stands, and a
 * way to take a payer out. The signaling side implements it over presence and the gateway
 * (PresenceCallParticipants); billing imports neither, and its unit tests drive a fake.
 */
export interface CallParticipants {
  /**
   * The slots held in a room now. Reading them releases slots whose grace period is over (the
   * others are told), so a meter nobody ran finds its payer gone.
   */
  slots(roomId: RoomId): Promise<CallSlot[]>;
  /** Follow slots taken and given up (the kit `Emitter` style); returns the removal. */
  on<K extends keyof CallParticipantsEvents>(
    event: K,
    listener: (value: CallParticipantsEvents[K]) => void,
  ): () => void;
  /** Send the meter to one member's client, on whichever process holds its connection. */
  tell(peerId: PeerId, message: CallBillingMessage): void;
  /** Take a member out of the room (its client is told why); false when it was not there. */
  remove(roomId: RoomId, peerId: PeerId, notice: RemovedMessage): Promise<boolean>;
}
