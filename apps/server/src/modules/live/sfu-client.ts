import { type Logger, signInternalRequest } from '@fusionflow/kit';
import {
  SfuNetworkInfo,
  type SfuRevocationRequest,
  SfuRevocationResponse,
  type SfuRoomInfo,
  SfuRoomsResponse,
} from '@fusionflow/protocol';

/** The control plane's client of the SFU admin API (signed like the SFU's events). */
export class SfuAdminClient {
  constructor(private readonly o: { url: () => string | undefined; secret: string; logger: Logger }) {}

  async #call(method: 'GET' | 'DELETE' | 'POST', path: string, body?: unknown): Promise<Response | undefined> {
    const base = this.o.url();
    if (!base) return undefined;
    const raw = body === undefined ? '' : JSON.stringify(body);
    return fetch(new URL(path, base), {
      method,
      headers: {
        ...signInternalRequest(this.o.secret, method, path, raw),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: raw }),
      signal: AbortSignal.timeout(5000),
    });
  }

  async listRooms(): Promise<SfuRoomInfo[] | undefined> {
    const res = await this.#call('GET', '/api/admin/rooms');
    if (!res?.ok) return undefined;
    return SfuRoomsResponse.parse(await res.json()).rooms;
  }

  /** What the SFU advertises for ICE and the addresses it has (the doctor's check); throws when unreachable. */
  async network(): Promise<SfuNetworkInfo> {
    const res = await this.#call('GET', '/api/admin/network');
    if (!res) throw new Error('the SFU is not running');
    if (!res.ok) throw new Error(`the SFU answered HTTP ${res.status}`);
    return SfuNetworkInfo.parse(await res.json());
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

  /**
   * Revoke a user's grants for a room (or, without `room`, every room) issued up to `issuedBefore`,
   * ending their sessions now: how many sessions closed (undefined without an SFU).
   */
  async revoke(request: SfuRevocationRequest): Promise<number | undefined> {
    const res = await this.#call('POST', '/api/admin/revocations', request);
    if (!res) return undefined;
    if (!res.ok) throw new Error(`the SFU answered ${res.status} to a revocation`);
    return SfuRevocationResponse.parse(await res.json()).kicked;
  }

  async kick(sessionId: string): Promise<boolean> {
    const res = await this.#call('DELETE', `/api/admin/sessions/${encodeURIComponent(sessionId)}`);
    return res?.status === 200;
  }
}
