import { createHmac } from 'node:crypto';

/**
 * Time-limited TURN credentials as coturn's REST API (`use-auth-secret`) checks them: username
 * `<expiry unix seconds>:<user id>`, password base64(HMAC-SHA1(static-auth-secret, username)).
 */
export function turnCredentials(
  secret: string,
  userId: string,
  ttlSeconds: number,
  nowMs = Date.now(),
): { username: string; credential: string } {
  const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${userId}`;
  return { username, credential: createHmac('sha1', secret).update(username).digest('base64') };
}
