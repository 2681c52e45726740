import { createSocket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTestCertificates, type TestCertificates } from '../../../../../test/support/certificates.js';
import { type Coturn, startCoturn } from '../../../../../test/support/coturn.js';
import { tools } from '../../../../../test/support/tools.js';
import { IceServerIssuer } from '../media/ice-server-issuer.js';
import {
  decodeStun,
  encodeStun,
  longTermKey,
  MessageClass,
  Method,
  stunMessage,
  verifyIntegrity,
} from './stun-message.js';
import { checkTurn } from './turn-check.js';

const coturn = tools.coturn();
const openssl = tools.openssl();

/** Fresh REST credentials for every URL, as the control plane hands them to browsers. */
function credentials(secret: string) {
  const issued = new IceServerIssuer({
    stunUrls: [],
    turnUrls: ['turn:any'],
    turnSecret: secret,
    ttlSeconds: 600,
  }).issue({ userId: 'doctor', isGuest: false });
  const turn = issued.iceServers[0]!;
  return { username: turn.username!, credential: turn.credential! };
}

describe('STUN messages', () => {
  it('round-trips a request with MESSAGE-INTEGRITY and detects a wrong key', () => {
    const key = longTermKey('user', 'realm', 'pass');
    const m = stunMessage(Method.Allocate);
    const raw = encodeStun(m, key);
    const back = decodeStun(raw);
    expect(back).toMatchObject({ method: Method.Allocate, cls: MessageClass.Request });
    expect(back.transactionId.equals(m.transactionId)).toBe(true);
    expect(verifyIntegrity(raw, key)).toBe(true);
    expect(verifyIntegrity(raw, longTermKey('user', 'realm', 'other'))).toBe(false);
    expect(() => decodeStun(raw.subarray(0, 10))).toThrow();
  });
});

/**
 * The doctor's TURN check against Debian's coturn on 127.0.0.1: a real Allocate with freshly minted
 * REST credentials over UDP, TCP and TLS (a test CA), a relay round trip, and each way it goes
 * wrong reported as itself.
 */
describe.skipIf(!coturn.available || !openssl.available)('the TURN check against coturn', () => {
  let certs: TestCertificates;
  let turn: Coturn;
  let closedRelay: Coturn;

  beforeAll(async () => {
    certs = makeTestCertificates();
    turn = await startCoturn({ tls: { certFile: certs.certFile, keyFile: certs.keyFile } });
    // The relay hands out 127.0.0.2, where nothing listens: datagrams to the relay go nowhere.
    closedRelay = await startCoturn({ externalIp: '127.0.0.2/127.0.0.1' });
  });
  afterAll(async () => {
    await turn?.stop();
    await closedRelay?.stop();
    certs?.remove();
  });

  it('allocates and relays over UDP, TCP and TLS with the right secret', async () => {
    expect(turn.urls).toHaveLength(3);
    for (const url of turn.urls) {
      const check = await checkTurn({
        url,
        ...credentials(turn.secret),
        expectedRealm: turn.realm,
        ttlSeconds: 600,
        ca: certs.ca,
      });
      expect(check, url).toMatchObject({ id: `turn:${url}`, status: 'ok', details: { realm: 'fusionflow.test' } });
      expect(check.summary).toContain('relayed a test datagram');
    }
    const tls = await checkTurn({
      url: turn.urls[2]!,
      ...credentials(turn.secret),
      expectedRealm: undefined,
      ttlSeconds: 600,
      ca: certs.ca,
    });
    expect(tls.details?.certificateExpires).toEqual(expect.any(String));
  });

  it('reports a wrong secret as a secret that differs from coturn’s', async () => {
    const check = await checkTurn({
      url: turn.urls[0]!,
      ...credentials('not-the-secret-coturn-has'),
      expectedRealm: undefined,
      ttlSeconds: 600,
    });
    expect(check.status).toBe('fail');
    expect(check.summary).toContain("TURN_SECRET is not coturn's static-auth-secret");
    expect(check.details).toMatchObject({ code: 401, realm: 'fusionflow.test' });
  });

  it('reports a realm that is not the configured one', async () => {
    const check = await checkTurn({
      url: turn.urls[1]!,
      ...credentials(turn.secret),
      expectedRealm: 'live.example.com',
      ttlSeconds: 600,
    });
    expect(check.status).toBe('fail');
    expect(check.summary).toContain('answers for realm "fusionflow.test", but TURN_REALM is "live.example.com"');
  });

  it('reports closed relay ports: the allocation works, nothing comes back through it', async () => {
    const check = await checkTurn({
      url: closedRelay.urls[0]!,
      ...credentials(closedRelay.secret),
      expectedRealm: undefined,
      ttlSeconds: 600,
    });
    expect(check.status).toBe('fail');
    expect(check.summary).toContain('the relay ports are closed');
    expect(check.details?.relayed).toMatchObject({ address: '127.0.0.2' });
  });

  it('reports an untrusted certificate and a port where nothing answers', async () => {
    const untrusted = await checkTurn({
      url: turn.urls[2]!,
      ...credentials(turn.secret),
      expectedRealm: undefined,
      ttlSeconds: 600,
    });
    expect(untrusted.status).toBe('fail');
    expect(untrusted.summary).toContain('is not trusted');

    const socket = createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    const silent = `turn:127.0.0.1:${socket.address().port}?transport=udp`;
    try {
      const check = await checkTurn({
        url: silent,
        ...credentials(turn.secret),
        expectedRealm: undefined,
        ttlSeconds: 600,
        timeoutMs: 800,
      });
      expect(check).toMatchObject({ status: 'fail' });
      expect(check.summary).toContain('no TURN answer');
    } finally {
      socket.close();
    }
  });
});
