import { type Logger, signInternalRequest } from '@fusionflow/kit';
import { type SfuRoomInfo, SfuRoomsResponse } from '@fusionflow/protocol';

/** The control plane's client of the SFU admin API (signed like the SFU's events). */
export class SfuAdminClient {
  constructor(private readonly o: { url: () => string | undefined; secret: string; logger: Logger }) {}

  async #call(method: 'GET' | 'DELETE', path: string): Promise<Response | undefined> {
    const base = this.o.url();
    if (!base) return undefined;
    return fetch(new URL(path, base), {
      method,
      headers: signInternalRequest(this.o.secret, method, path, ''),
      signal: AbortSignal.timeout(5000),
    });
  }

  async listRooms(): Promise<SfuRoomInfo[] | undefined> {
    const res = await this.#call('GET', '/api/admin/rooms');
    if (!res?.ok) return undefined;
    return SfuRoomsResponse.parse(await res.json()).rooms;
  }

  /** Close a room on the SFU (every session in it). False when the SFU had no such room. */
  async closeRoom(room: string): Promise<boolean> {
    try {
      const res = await this.#call('DELETE', `/api/admin/rooms/${encodeURIComponent(room)}`);
      return res?.status === 200;
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message, roomId: room }, 'could not close the room on the SFU');
      return false;
    }
  }

  async kick(sessionId: string): Promise<boolean> {
    const res = await this.#call('DELETE', `/api/admin/sessions/${encodeURIComponent(sessionId)}`);
    return res?.status === 200;
  }
}
