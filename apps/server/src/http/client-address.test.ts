import { ConfigError } from '@fusionflow/kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServerConfig } from '../config.js';
import { testDatabases } from '../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../test-support.js';

const PASSWORD = 'correct horse battery';
/** nginx's address as the control plane sees it: every request comes from it. */
const NGINX = '127.0.0.1';

/**
 * Behind nginx (TRUST_PROXY=1) the client's address is the one nginx appended to X-Forwarded-For;
 * whatever the client wrote there itself is never believed, so it cannot escape a per-address limit.
 */
describe.each(testDatabases())('client addresses behind a proxy on $name', (db) => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await startTestPlatform(db, {
      trustProxy: 1,
      loginRatePerIpPerMinute: 8,
      registrationsPerIpPerHour: 3,
      rateLimitPerMinute: 40,
    });
  });
  afterAll(() => t.close());

  /** What nginx sends on for a client at `client` that itself wrote `spoofed` (`$proxy_add_x_forwarded_for`). */
  const viaNginx = (client: string, spoofed?: string) => ({
    ip: NGINX,
    headers: { 'x-forwarded-for': spoofed ? `${spoofed}, ${client}` : client },
  });

  it('holds the login limit against a fresh spoofed X-Forwarded-For on every attempt', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await t.call('POST', '/api/auth/login', {
        body: { email: `nobody${i}@example.com`, password: PASSWORD },
        ...viaNginx('203.0.113.7', `198.51.100.${i}`),
      });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 8).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(8).every((s) => s === 429)).toBe(true);
    // The real forwarded address is what counts: another client behind the same nginx is not held.
    const other = await t.call('POST', '/api/auth/login', {
      body: { email: 'nobody@example.com', password: PASSWORD },
      ...viaNginx('203.0.113.8', '203.0.113.7'),
    });
    expect(other.status).toBe(401);
  });

  it('holds the sign-up limit against spoofed addresses', async () => {
    const register = (i: number, client: string, spoofed?: string) =>
      t.call('POST', '/api/auth/register', {
        body: { email: `proxied${i}@example.com`, password: PASSWORD, displayName: `P${i}` },
        ...viaNginx(client, spoofed),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await register(i, '203.0.113.20', `192.0.2.${i}`)).status);
    expect(statuses).toEqual([201, 201, 201, 429, 429, 429]);
    expect((await register(10, '203.0.113.21')).status).toBe(201);
  });

  it('holds the API rate limit against spoofed addresses', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 45; i++) {
      statuses.push((await t.call('GET', '/api/rooms', viaNginx('203.0.113.30', `192.0.2.${i}`))).status);
    }
    expect(statuses.slice(0, 40).every((s) => s === 200)).toBe(true);
    expect(statuses.slice(40).every((s) => s === 429)).toBe(true);
    expect((await t.call('GET', '/api/rooms', viaNginx('203.0.113.31'))).status).toBe(200);
  });

  it('believes no header without TRUST_PROXY, and only listed proxies with a list', async () => {
    const direct = await startTestPlatform(db, { loginRatePerIpPerMinute: 2 });
    const listed = await startTestPlatform(db, { trustProxy: ['10.0.0.0/8'], loginRatePerIpPerMinute: 2 });
    try {
      const login = (p: TestPlatform, ip: string, forwarded: string) =>
        p.call('POST', '/api/auth/login', {
          body: { email: 'nobody@example.com', password: PASSWORD },
          ip,
          headers: { 'x-forwarded-for': forwarded },
        });
      // Off: the socket's address, whatever the header says.
      const off = [];
      for (let i = 0; i < 3; i++) off.push((await login(direct, '198.51.100.4', `192.0.2.${i}`)).status);
      expect(off).toEqual([401, 401, 429]);
      // A list: a client reaching the server directly is no proxy, its header is ignored …
      const bypass = [];
      for (let i = 0; i < 3; i++) bypass.push((await login(listed, '198.51.100.5', `192.0.2.${i}`)).status);
      expect(bypass).toEqual([401, 401, 429]);
      // … while behind the listed proxy the forwarded address counts.
      expect((await login(listed, '10.1.2.3', '198.51.100.5')).status).toBe(429);
      expect((await login(listed, '10.1.2.3', '198.51.100.6')).status).toBe(401);
    } finally {
      await direct.close();
      await listed.close();
    }
  });
});

describe('TRUST_PROXY at start-up', () => {
  it('refuses `true` with a message saying what to set instead', () => {
    expect(() => loadServerConfig({ TRUST_PROXY: 'true' })).toThrow(ConfigError);
    expect(() => loadServerConfig({ TRUST_PROXY: 'true' })).toThrow(
      /TRUST_PROXY: `true` \(trust every hop\) is no longer accepted.*1 for nginx on the same machine/s,
    );
    expect(loadServerConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadServerConfig({ TRUST_PROXY: '127.0.0.1,10.0.0.0/8' }).trustProxy).toEqual(['127.0.0.1', '10.0.0.0/8']);
    expect(loadServerConfig({}).trustProxy).toBe(false);
  });

  it('refuses the removed LOGIN_FAILURES_PER_ACCOUNT instead of ignoring it', () => {
    expect(() => loadServerConfig({ LOGIN_FAILURES_PER_ACCOUNT: '5' })).toThrow(/LOGIN_FAILURES_PER_ACCOUNT_PER_IP/);
  });
});
