import type { Room } from '@fusionflow/protocol';
import { useState } from 'react';
import { RoomChat } from '../chat/room-chat';
import { EndedBroadcast } from './ended-broadcast';
import { LivePlayer } from './live-player';

/**
 * A viewer's side of a broadcast, wherever it is watched (the room page, the channel page): the player and
 * the chat while it is on, one offline state with the replay link once it has ended (the chat stays readable).
 */
export function LiveViewer({ room, onChange }: { room: Room; onChange: (room: Room) => void }) {
  /** Bumped when a ticket is bought: a paid room's chat opens to ticket holders only, so it joins again. */
  const [chatKey, setChatKey] = useState(0);
  return (
    <>
      {room.status === 'ended' ? (
        <EndedBroadcast room={room} />
      ) : (
        <LivePlayer room={room} onChange={onChange} onTicket={() => setChatKey((k) => k + 1)} />
      )}
      {/* Mounted in both states: the chat of a broadcast that ends while watched stays readable. */}
      <RoomChat key={chatKey} room={room} />
    </>
  );
}
