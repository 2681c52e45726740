import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServerConfig } from '../../config.js';
import type { DatabaseHandle } from '../../db/database.js';
import { testDatabases } from '../../db/test-databases.js';
import { createPlatform, type Platform } from '../../main.js';

/**
 * The real embedded SFU (a child process, as `npm start` runs it) behind the control plane's
 * WHIP/WHEP forwarder, behind "nginx" (TRUST_PROXY=1): the SFU's per-address rate limit (which also
 * holds stream-key guesses) counts the client address the control plane computed, not one the
 * client wrote into X-Forwarded-For.
 */
describe('the embedded SFU behind the forwarder and a proxy', () => {
  let database: DatabaseHandle;
  let platform: Platform;
  let url: string;

  beforeAll(async () => {
    database = await testDatabases()[0]!.open();
    platform = await createPlatform(testServerConfig({ port: 0, trustProxy: 1, sfuEmbedded: true }), {
      database,
      env: { SFU_RATE_LIMIT_PER_MINUTE: '3', LOG_LEVEL: 'silent' },
    });
    url = await platform.listen();
  }, 60_000);
  afterAll(async () => {
    await platform?.close();
    await database?.close();
  });

  /** A WHEP offer as nginx forwards it for `client`, who wrote `spoofed` into X-Forwarded-For itself. */
  const offer = (client: string, spoofed?: string) =>
    fetch(`${url}/api/whep/play/forwarded-room`, {
      method: 'POST',
      headers: {
        'content-type': 'application/sdp',
        'x-forwarded-for': spoofed ? `${spoofed}, ${client}` : client,
      },
      body: 'v=0\r\n',
    });

  it('limits one client however it spoofs X-Forwarded-For, and counts another client on its own', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await offer('203.0.113.7', `198.51.100.${i}`)).status);
    // Three reach the SFU's checks (no grant: 401), the rest are over its per-address limit.
    expect(statuses.slice(0, 3).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(3)).toEqual([429, 429, 429]);
    const other = await offer('203.0.113.8', '203.0.113.7');
    expect(other.status).toBe(401);
  });
});
