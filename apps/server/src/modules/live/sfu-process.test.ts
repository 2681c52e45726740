import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLogger } from '@fusionflow/kit';
import { afterAll, describe, expect, it } from 'vitest';
import { RTCPeerConnection } from 'werift';
import { sfuSettings } from '../../../../sfu/src/config.js';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform } from '../../test-support.js';
import { EmbeddedSfu, INHERITED_SECRETS, OWN_ENV } from './sfu-process.js';

/** Secrets of the control plane: none of them may reach the media process. */
const CONTROL_PLANE_SECRETS = {
  DATABASE_URL: 'postgres://app:db-password@127.0.0.1:5432/ff',
  ACCESS_TOKEN_SECRET: 'access-token-secret-access-token-secret',
  GRANT_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----',
  SFU_INTERNAL_SECRET: 'sfu-internal-secret-sfu-internal-secret',
  PAYMENTS_WEBHOOK_SECRET: 'payments-webhook-secret',
  TURN_SECRET: 'coturn-shared-secret',
  REDIS_URL: 'redis://:redis-password@127.0.0.1:6379',
  TRANSLATION_API_KEY: 'libretranslate-key',
  CONFIG_FILE: '/etc/fusionflow/control-plane.json',
  // Standalone SFU credentials would let a bearer past every grant rule (tickets, bans).
  AUTH_TOKEN: 'global-token',
  ROOM_TOKENS: 'room1:token1',
  JWT_SECRET: 'a-jwt-secret-that-is-long-enough-for-hs256',
};

/** The SFU's own settings an operator gives the control plane for the embedded SFU (keeps ICE on loopback). */
const SFU_OWN = {
  ICE_ADDRESSES: '127.0.0.1',
  ICE_ONLY_ADDRESSES: 'true',
  MAX_SUBSCRIBERS_PER_ROOM: '50',
  STUN_URLS: 'stun:stun.example.net:3478',
  LOG_LEVEL: 'warn',
};

const environOf = (pid: number) =>
  Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );

describe('the embedded SFU process', () => {
  const logger = createLogger({ level: 'silent', name: 'test' });
  const embedded = new EmbeddedSfu({
    env: { ...CONTROL_PLANE_SECRETS, ...SFU_OWN, PATH: process.env.PATH, HOME: process.env.HOME, OTHER: 'x' },
    controlUrl: 'http://127.0.0.1:9',
    secret: 'the-internal-secret-the-sfu-shares-with-us',
    jwks: JSON.stringify({ keys: [] }),
    configFile: undefined,
    logger,
  });
  afterAll(() => embedded.close());

  it('gets an allow-list: its own non-secret settings, derived from its config, and what the control plane sets', async () => {
    const env = await embedded.environment();
    for (const key of Object.keys(CONTROL_PLANE_SECRETS)) expect(env, key).not.toHaveProperty(key);
    expect(env).toMatchObject({ ...SFU_OWN, INTERNAL_SECRET: 'the-internal-secret-the-sfu-shares-with-us' });
    // One worker: the control plane's static node (its readiness message names the one URL).
    expect(env.SFU_WORKERS).toBe('1');
    expect(env).not.toHaveProperty('OTHER');
    // Every setting the SFU declares is either passed on (non-secret, or the bucket's keys), never inherited (secret), set by the control
    // plane itself, or one the SFU keeps its own value of (OWN_ENV, e.g. its service name in traces).
    const everySetting = Object.fromEntries(Object.values(sfuSettings).map((s) => [s.env, 'v']));
    const all = await new EmbeddedSfu({ ...embeddedOptions(), env: everySetting }).environment();
    for (const s of Object.values(sfuSettings)) {
      if (s.secret && !INHERITED_SECRETS.includes(s.env)) expect(all[s.env], s.env).not.toBe('v');
      else if (OWN_ENV.includes(s.env)) expect(all[s.env], s.env).toBeUndefined();
      else if (
        !['SFU_HOST', 'SFU_PORT', 'SFU_WORKERS', 'CONTROL_URL', 'JWKS_URL', 'JWKS', 'SFU_TRUST_PROXY'].includes(s.env)
      )
        expect(all[s.env], s.env).toBe('v');
    }
  });

  it('runs with exactly that environment (read from /proc)', async () => {
    await embedded.start();
    const got = environOf(embedded.pid!);
    // Node adds its IPC channel's own variables (the SFU reports readiness over it).
    const keys = Object.keys(got).filter((k) => !k.startsWith('NODE_CHANNEL_'));
    expect(keys.sort()).toEqual(Object.keys(await embedded.environment()).sort());
    for (const [key, value] of Object.entries(CONTROL_PLANE_SECRETS)) {
      expect(got, key).not.toHaveProperty(key);
      expect(
        Object.values(got).some((v) => v.includes(value)),
        key,
      ).toBe(false);
    }
    await embedded.close();
  }, 60_000);

  function embeddedOptions() {
    return {
      env: {},
      controlUrl: 'http://127.0.0.1:9',
      secret: 's'.repeat(32),
      jwks: '{"keys":[]}',
      configFile: undefined,
      logger,
    };
  }
});

describe('TURN credentials in WHIP/WHEP Link headers come from the control plane', () => {
  it('the embedded SFU announces the credentials the control plane minted into the grant', async () => {
    const t = await startTestPlatform(
      testDatabases()[0]!,
      {
        port: 0,
        sfuEmbedded: true,
        stunUrls: ['stun:127.0.0.1:3478'],
        turnUrls: ['turn:127.0.0.1:3478?transport=udp'],
        turnSecret: CONTROL_PLANE_SECRETS.TURN_SECRET,
      },
      { env: { ...CONTROL_PLANE_SECRETS, ...SFU_OWN, PATH: process.env.PATH, HOME: process.env.HOME } },
    );
    const pc = new RTCPeerConnection({ iceServers: [], iceAdditionalHostAddresses: ['127.0.0.1'], iceUseIpv6: false });
    try {
      const url = await t.platform.listen();
      const owner = await t.signUp('Owner', { role: 'streamer' });
      const room = (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title: 'x' } })).body
        .id;
      const grant = (
        await t.call('POST', `/api/rooms/${room}/grants`, { token: owner.token, body: { role: 'publish' } })
      ).body;
      pc.addTransceiver('video', { direction: 'sendonly' });
      await pc.setLocalDescription(await pc.createOffer());
      await new Promise<void>((resolve) => {
        if (pc.iceGatheringState === 'complete') resolve();
        else pc.iceGatheringStateChange.subscribe((s) => s === 'complete' && resolve());
      });
      const res = await fetch(`${url}/api/whip/publish/${room}`, {
        method: 'POST',
        headers: { 'content-type': 'application/sdp', authorization: `Bearer ${grant.token}` },
        body: pc.localDescription!.sdp,
      });
      expect(res.status).toBe(201);
      const links = (res.headers.get('link') ?? '').split(/,\s*(?=<)/).filter((l) => l.includes('rel="ice-server"'));
      const turn = links.find((l) => l.startsWith('<turn:'))!;
      const [, username, credential] = /username="([^"]+)"; credential="([^"]+)"/.exec(turn)!;
      expect(username).toBe(grant.iceServers[1].username);
      expect(username).toMatch(new RegExp(`^\\d+:${owner.id}$`));
      expect(credential).toBe(createHmac('sha1', CONTROL_PLANE_SECRETS.TURN_SECRET).update(username!).digest('base64'));
      expect(links).toContain('<stun:127.0.0.1:3478>; rel="ice-server"');
      await fetch(`${url}${res.headers.get('location')}`, { method: 'DELETE' });
    } finally {
      await pc.close();
      await t.close();
    }
  }, 90_000);
});
