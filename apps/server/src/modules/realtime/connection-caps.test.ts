import { PROTOCOL_VERSION } from '@fusionflow/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { connectPeer, refusedHandshake, type TestPeer } from '../signaling/test-signaling.js';

// The caps do not depend on the database; the embedded one keeps the suite lean.
const db = testDatabases()[0]!;

describe('caps on real-time connections', () => {
  let t: TestPlatform;
  let url: string;
  const open: TestPeer[] = [];

  beforeAll(async () => {
    t = await startTestPlatform(db, {
      port: 0,
      trustProxy: 1,
      signalingMaxConnectionsPerUser: 10,
      signalingMaxConnectionsPerIp: 25,
    });
    url = await t.platform.listen();
  });
  afterEach(() => {
    for (const p of open.splice(0)) p.close();
  });
  afterAll(() => t.close());

  const guest = async () => (await t.call('POST', '/api/auth/guest')).body.accessToken as string;
  /** Connect as a client at `client` behind the trusted proxy (which appended it to X-Forwarded-For). */
  const connect = async (token: string, client: string, spoofed?: string) => {
    const p = await connectPeer(url, token, {
      headers: { 'x-forwarded-for': spoofed ? `${spoofed}, ${client}` : client },
    });
    open.push(p);
    return p;
  };
  const refused = (token: string, client: string, spoofed?: string) =>
    refusedHandshake(
      url,
      { token, protocol: PROTOCOL_VERSION },
      { 'x-forwarded-for': spoofed ? `${spoofed}, ${client}` : client },
    );

  it('holds one guest token to SIGNALING_MAX_CONNECTIONS_PER_USER, and gives a slot back when one closes', async () => {
    const token = await guest();
    for (let i = 0; i < 10; i++) await connect(token, '203.0.113.1');
    const over = await refused(token, '203.0.113.1');
    expect(over.data).toMatchObject({ code: 'too_many_connections', closeCode: 4429 });
    // The same token from another address is the same user.
    expect((await refused(token, '203.0.113.2')).data.code).toBe('too_many_connections');
    open.pop()!.close();
    await vi.waitFor(() => expect(t.platform.services.realtime.size).toBe(9));
    await connect(token, '203.0.113.1');
    expect((await refused(token, '203.0.113.1')).data.code).toBe('too_many_connections');
  });

  it('holds an account the same way', async () => {
    const user = await t.signUp('Tabs');
    const peers = await Promise.all(Array.from({ length: 10 }, (_, i) => connect(user.token, `203.0.113.${10 + i}`)));
    expect(peers).toHaveLength(10);
    expect((await refused(user.token, '203.0.113.30')).data.code).toBe('too_many_connections');
  });

  it('does not let fresh guest tokens (or spoofed addresses) get around it: the per-address cap holds them', async () => {
    // Five guest tokens, five connections each, from one address: 25 in all, the address's cap.
    for (let g = 0; g < 5; g++) {
      const token = await guest();
      for (let i = 0; i < 5; i++) await connect(token, '203.0.113.50', `198.51.100.${g * 5 + i}`);
    }
    const another = await guest();
    const over = await refused(another, '203.0.113.50', '198.51.100.99');
    expect(over.data).toMatchObject({ code: 'too_many_connections', closeCode: 4429 });
    expect(over.data.message).toMatch(/address/);
    // Another client behind the same proxy has a count of its own.
    await connect(another, '203.0.113.51', '203.0.113.50');
  });

  it('counts a burst of parallel handshakes against the cap', async () => {
    const token = await guest();
    const attempts = await Promise.allSettled(Array.from({ length: 30 }, () => connect(token, '203.0.113.60')));
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(10);
    expect(attempts.filter((a) => a.status === 'rejected')).toHaveLength(20);
  });
});
