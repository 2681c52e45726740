import { mintIceServers } from '@fusionflow/kit';
import type { IceServer } from '@fusionflow/protocol';

/** ICE servers as RFC 9725 `Link` headers: one per URL, with the server's credentials when it has them. */
export function iceServerLinks(servers: readonly IceServer[]): string[] {
  const quote = (s: string) => s.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
  const links: string[] = [];
  for (const server of servers) {
    const auth =
      server.username !== undefined && server.credential !== undefined
        ? `; username="${quote(server.username)}"; credential="${quote(server.credential)}"; credential-type="password"`
        : '';
    for (const url of Array.isArray(server.urls) ? server.urls : [server.urls]) {
      links.push(`<${url}>; rel="ice-server"${auth}`);
    }
  }
  return links;
}

/**
 * The SFU's own ICE servers, for sessions admitted without a grant (a grant carries the ones the
 * control plane chose, credentials included): its STUN servers and — standalone SFU only, where
 * TURN_SECRET is allowed — TURN with credentials minted here.
 */
export function ownIceServers(
  o: {
    stunUrls: readonly string[];
    turnUrls: readonly string[];
    turnSecret: string | undefined;
    turnTtlSeconds: number;
  },
  userId: string,
  nowMs = Date.now(),
): IceServer[] {
  return mintIceServers({ ...o, ttlSeconds: o.turnTtlSeconds }, userId, nowMs);
}
