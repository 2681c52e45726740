import type { Logger } from '@fusionflow/kit';
import type { SfuRoomInfo } from '@fusionflow/protocol';
import type { MediaSession } from '../session/media-session.js';
import { Room, type RoomOptions } from './room.js';

/**
 * Every room of the SFU and every session by id. Rooms are created on the first request and
 * forgotten when they empty; `close()` closes them all (children first) and leaves nothing behind.
 */
export class RoomManager {
  readonly #rooms = new Map<string, Room>();
  readonly #sessions = new Map<string, MediaSession>();
  #closed = false;

  constructor(private readonly o: RoomOptions) {}

  get roomCount(): number {
    return this.#rooms.size;
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  room(name: string): Room | undefined {
    return this.#rooms.get(name);
  }

  /** The room, created if needed (a request that fails leaves no room behind: see prune). */
  open(name: string): Room {
    let room = this.#rooms.get(name);
    if (!room) {
      room = new Room(name, this.o);
      room.on('empty', (r) => {
        if (this.#rooms.get(r.name) === r) this.#rooms.delete(r.name);
      });
      room.on('session', (s) => {
        this.#sessions.set(s.id, s);
        s.on('close', ({ session }) => {
          if (this.#sessions.get(session.id) === session) this.#sessions.delete(session.id);
        });
      });
      this.#rooms.set(name, room);
    }
    return room;
  }

  /** Forget a room that was opened but got no session (e.g. the offer was refused before one existed). */
  pruneIfEmpty(name: string): void {
    const room = this.#rooms.get(name);
    if (room?.empty) void room.close('empty');
  }

  session(id: string): MediaSession | undefined {
    return this.#sessions.get(id);
  }

  list(): SfuRoomInfo[] {
    return [...this.#rooms.values()].map((r) => r.info());
  }

  async closeRoom(name: string, reason = 'room_closed'): Promise<boolean> {
    const room = this.#rooms.get(name);
    if (!room) return false;
    await room.close(reason);
    return true;
  }

  async kick(sessionId: string): Promise<boolean> {
    const session = this.#sessions.get(sessionId);
    if (!session) return false;
    await session.close('kicked');
    return true;
  }

  /** End every session of a user, in one room or (room null) in every room; how many were closed. */
  async kickUser(userId: string, room: string | null, reason = 'kicked'): Promise<number> {
    const sessions = [...this.#sessions.values()].filter(
      (s) => s.userId === userId && (room === null || s.room === room) && !s.closed,
    );
    await Promise.all(sessions.map((s) => s.close(reason)));
    return sessions.length;
  }

  async close(reason = 'shutdown'): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#rooms.values()].map((r) => r.close(reason)));
    this.#rooms.clear();
    this.#sessions.clear();
  }

  get logger(): Logger {
    return this.o.logger;
  }
}
