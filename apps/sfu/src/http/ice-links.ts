import { createHmac } from 'node:crypto';

/**
 * ICE servers as RFC 9725 `Link` headers: STUN as they are, TURN with coturn REST credentials
 * (username `<expiry>:<user>`, password base64(HMAC-SHA1(secret, username))).
 */
export function iceServerLinks(
  o: {
    stunUrls: readonly string[];
    turnUrls: readonly string[];
    turnSecret: string | undefined;
    turnTtlSeconds: number;
  },
  userId: string,
  nowMs = Date.now(),
): string[] {
  const links = o.stunUrls.map((url) => `<${url}>; rel="ice-server"`);
  if (o.turnUrls.length > 0 && o.turnSecret) {
    const username = `${Math.floor(nowMs / 1000) + o.turnTtlSeconds}:${userId}`;
    const credential = createHmac('sha1', o.turnSecret).update(username).digest('base64');
    const quote = (s: string) => s.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
    for (const url of o.turnUrls) {
      links.push(
        `<${url}>; rel="ice-server"; username="${quote(username)}"; credential="${quote(credential)}"; credential-type="password"`,
      );
    }
  }
  return links;
}
