import { createHmac } from 'node:crypto';
import type { IceServer } from '@fusionflow/protocol';

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

/** STUN and TURN servers a process hands out (control plane, or a standalone SFU). */
export interface IceServerSettings {
  stunUrls: readonly string[];
  turnUrls: readonly string[];
  /** coturn `static-auth-secret`; TURN is offered only when it and `turnUrls` are set. */
  turnSecret: string | undefined;
  ttlSeconds: number;
}

/** Whether the settings offer TURN at all. */
export const turnEnabled = (s: IceServerSettings): boolean => s.turnUrls.length > 0 && Boolean(s.turnSecret);

/**
 * The ICE servers for one holder: the STUN servers, and TURN with credentials minted for `userId`
 * (none for `null`: TURN relays at the operator's cost, so who gets it is the caller's decision).
 */
export function mintIceServers(s: IceServerSettings, userId: string | null, nowMs = Date.now()): IceServer[] {
  const servers: IceServer[] = s.stunUrls.length > 0 ? [{ urls: [...s.stunUrls] }] : [];
  if (userId !== null && turnEnabled(s)) {
    servers.push({ urls: [...s.turnUrls], ...turnCredentials(s.turnSecret!, userId, s.ttlSeconds, nowMs) });
  }
  return servers;
}
