import { type Logger, signInternalRequest } from '@fusionflow/kit';
import {
  SfuNetworkInfo,
  type SfuRevocationRequest,
  SfuRevocationResponse,
  type SfuRoomInfo,
  SfuRoomsResponse,
} from '@fusionflow/protocol';

/**
 * The control plane's client of the SFU admin API (signed like the SFU's events): the one SFU it runs or is told
 * of (`url`), and for what concerns every node (closing a room, revoking a user) also each reporting node (`nodes`:
 * a room's origin and its edges, the workers of every machine).
 */
export class SfuAdminClient {
  constructor(
    private readonly o: {
      url: () => string | undefined;
      nodes?: () => Promise<string[]>;
      secret: string;
      logger: Logger;
    },
  ) {}

  /** The static SFU's URL and every reporting node's, once each. */
  async #everyNode(): Promise<string[]> {
    const urls = new Set<string>();
    const own = this.o.url();
    if (own) urls.add(own.replace(/\/$/, ''));
    for (const url of (await this.o.nodes?.().catch(() => [])) ?? []) urls.add(url.replace(/\/$/, ''));
    return [...urls];
  }

  async #call(
    method: 'GET' | 'DELETE' | 'POST',
    path: string,
    body?: unknown,
    base = this.o.url(),
  ): Promise<Response | undefined> {
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

  /** Close a room on every SFU node (every session in it). False when no node had such a room. */
  async closeRoom(room: string): Promise<boolean> {
    const closed = await Promise.all(
      (await this.#everyNode()).map(async (base) => {
        try {
          const res = await this.#call('DELETE', `/api/admin/rooms/${encodeURIComponent(room)}`, undefined, base);
          return res?.status === 200;
        } catch (err) {
          this.o.logger.warn(
            { err: (err as Error).message, roomId: room, node: base },
            'could not close the room on an SFU node',
          );
          return false;
        }
      }),
    );
    return closed.some(Boolean);
  }

  /**
   * Revoke a user's grants for a room (or, without `room`, every room) issued up to `issuedBefore`,
   * ending their sessions now: how many sessions closed (undefined without an SFU).
   */
  async revoke(request: SfuRevocationRequest): Promise<number | undefined> {
    const nodes = await this.#everyNode();
    if (nodes.length === 0) return undefined;
    // Every node must refuse the user's grants: one that cannot be told makes the whole revocation fail (retried).
    const kicked = await Promise.all(
      nodes.map(async (base) => {
        const res = await this.#call('POST', '/api/admin/revocations', request, base);
        if (!res?.ok) throw new Error(`the SFU node ${base} answered ${res?.status} to a revocation`);
        return SfuRevocationResponse.parse(await res.json()).kicked;
      }),
    );
    return kicked.reduce((a, b) => a + b, 0);
  }

  async kick(sessionId: string): Promise<boolean> {
    const res = await this.#call('DELETE', `/api/admin/sessions/${encodeURIComponent(sessionId)}`);
    return res?.status === 200;
  }
}
