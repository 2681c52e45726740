import type { Room } from '@fusionflow/protocol';
import { useRef } from 'react';
import { useSession } from '../session/session-context';
import { ChatPanel } from './chat-panel';
import { useRoomChat } from './use-chat';

/**
 * A live room's chat (watch and studio pages) on a connection of its own. A chat opened while the room was live
 * stays readable after it ends (its messages stay, sending closes); an ended room opened later shows none here
 * (its replay has the chat).
 */
export function RoomChat({ room }: { room: Room }) {
  const { user, restoring } = useSession();
  const seenLive = useRef(false);
  if (room.status !== 'ended') seenLive.current = true;
  const client = useRoomChat(room.id, !restoring && seenLive.current);
  if (!seenLive.current) return null;
  return <ChatPanel client={client} signedIn={user !== null} hostId={room.ownerId} />;
}
