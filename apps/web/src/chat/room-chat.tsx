import type { Room } from '@fusionflow/protocol';
import { useSession } from '../session/session-context';
import { ChatPanel } from './chat-panel';
import { useRoomChat } from './use-chat';

/** A live room's chat (watch and studio pages) on a connection of its own. */
export function RoomChat({ room }: { room: Room }) {
  const { user, restoring } = useSession();
  const client = useRoomChat(room.id, !restoring && room.status !== 'ended');
  return <ChatPanel client={client} signedIn={user !== null} hostId={room.ownerId} />;
}
