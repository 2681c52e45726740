import { randomUUID } from 'node:crypto';
import { type CallClient, type CallClientOptions, MediaReporter, type ReconcileState } from '@fusionflow/client';
import type { MediaReport } from '@fusionflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RTCPeerConnection } from 'werift';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { nodeCallClient, reaches } from './test-call-clients.js';

/**
 * The SDK's CallClient in Node, against the real server over socket.io-client, with werift as the
 * RTCPeerConnection: real ICE, DTLS and SRTP on 127.0.0.1, synthetic RTP as "camera" and
 * "microphone" (werift counts packets where a browser counts decoded frames).
 */
/** A billed "minute" of this suite's private call: long enough for the peers to connect first. */
const MINUTE_MS = 1500;

/** Resolves once `check` holds (polled; the test's own timeout bounds the wait). */
const until = (check: () => boolean) =>
  new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (check()) {
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });

/** The offers a client sends (restarting ICE or not); the first `drop` of them are lost on the way. */
function watchOffers(c: CallClient, drop = 0): { restartIce: boolean; dropped: boolean }[] {
  const offers: { restartIce: boolean; dropped: boolean }[] = [];
  const signaling = c.signaling!;
  const send = signaling.send.bind(signaling);
  signaling.send = ((name, body) => {
    const msg = body as { kind?: string; payload?: { restartIce?: boolean } };
    if (name === 'signal' && msg.kind === 'offer') {
      const dropped = drop > 0;
      offers.push({ restartIce: msg.payload?.restartIce === true, dropped });
      if (dropped) {
        drop -= 1;
        return true;
      }
    }
    return send(name, body);
  }) as typeof signaling.send;
  return offers;
}

/** Makes a werift peer connection look `disconnected` to its owner, as a browser's does when the route is gone. */
function fakeDisconnected(pc: RTCPeerConnection): () => void {
  Object.defineProperty(pc, 'connectionState', { value: 'disconnected', configurable: true });
  pc.onconnectionstatechange?.();
  return () => {
    delete (pc as { connectionState?: unknown }).connectionState;
    pc.onconnectionstatechange?.();
  };
}

describe('CallClient in Node (werift peer connections)', () => {
  let t: TestPlatform;
  let url: string;
  const closers: (() => void)[] = [];

  beforeAll(async () => {
    t = await startTestPlatform(
      testDatabases()[0]!,
      {
        port: 0,
        testHooks: true,
        paymentsDevProvider: 'true',
        tokenPacks: [{ id: 'ten', tokens: 10, priceCents: 100, currency: 'USD' }],
      },
      { callBilling: { minuteMs: MINUTE_MS, tickMs: 50 } },
    );
    url = await t.platform.listen();
  });
  afterAll(async () => {
    for (const close of closers) close();
    await t.close();
  });

  /** A client; `pcs` collects every peer connection it makes. */
  const client = (token: string, pcs?: RTCPeerConnection[], options?: Partial<CallClientOptions>) => {
    const made = nodeCallClient(url, token, pcs, options);
    closers.push(made.close);
    return made.client;
  };

  it('connects two peers, repairs a lost media-state through a replay, and survives a dropped connection', async () => {
    const owner = await t.signUp('Host');
    const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken as string;
    const roomId = (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'call', title: 'Node' } }))
      .body.id as string;

    const a = client(owner.token);
    const b = client(guest);
    a.setMedia({ camera: true, mic: true });
    b.setMedia({ camera: true, mic: true });
    const ja = await a.join(roomId);
    const jb = await b.join(roomId);
    expect(jb.links).toEqual([{ peerId: ja.self.peerId, initiatorId: jb.self.peerId }]);
    const aId = ja.self.peerId;
    const bId = jb.self.peerId;

    await Promise.all([reaches(a, bId, 'live-media'), reaches(b, aId, 'live-media')]);
    expect(b.peer(aId)?.connection).toBe('connected');
    expect(b.peer(aId)?.quality?.videoFrames).toBeGreaterThan(0);
    expect(b.peer(aId)?.quality?.localCandidateType).toBe('host');

    // Camera and microphone off: nothing is expected, nothing to repair.
    a.setMedia({ camera: false, mic: false });
    await b.once('media-state', (m) => m.peerId === aId && !m.state.camera);
    await reaches(b, aId, 'connected');

    // The server loses A's own copy of "camera on": A does not send, B notices and asks for a replay.
    const seen: ReconcileState[] = [];
    b.on('reconciliation', (e) => {
      if (e.peerId === aId) seen.push(e.state);
    });
    expect((await t.call('POST', '/api/test-hooks/drop-media-state', { body: { roomId, peerId: aId } })).status).toBe(
      204,
    );
    a.setMedia({ camera: true, mic: true });
    await reaches(b, aId, 'replay-requested');
    await reaches(b, aId, 'live-media');
    expect(seen).toEqual(['replay-requested', 'connected', 'live-media']);
    expect(a.media).toEqual({ camera: true, mic: true, screen: false });

    // A's signaling connection drops: it reconnects, resumes the same slot, and media never stopped.
    const left: string[] = [];
    b.on('peer-left', (e) => left.push(e.peerId));
    const resumed = a.once('joined', (m) => m.resumed);
    a.dropSignaling();
    expect((await resumed).self.peerId).toBe(aId);
    expect(a.status).toBe('joined');
    await reaches(b, aId, 'live-media');
    expect(left).toEqual([]);

    a.leave();
    expect((await b.once('peer-left')).peerId).toBe(aId);
    expect(b.peers).toEqual([]);
  });

  it('reports the call’s join time, route and ICE failures to the control plane, which counts them in its metrics', async () => {
    const owner = await t.signUp('Reporter');
    const roomId = (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'call', title: 'Rep' } }))
      .body.id as string;
    const statuses: Promise<number>[] = [];
    const reports: MediaReport[] = [];
    const reporter = new MediaReporter({
      kind: 'call',
      send: (report, final) => {
        reports.push(report);
        statuses.push(
          fetch(`${url}/api/rooms/${roomId}/media-reports`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}` },
            body: JSON.stringify(report),
            keepalive: final,
          }).then((r) => r.status),
        );
      },
    });
    reporter.start();
    const pcs: RTCPeerConnection[] = [];
    const a = client(owner.token, pcs, { reporter });
    const b = client((await t.call('POST', '/api/auth/guest')).body.accessToken as string);
    a.setMedia({ camera: true, mic: true });
    b.setMedia({ camera: true, mic: true });
    await a.join(roomId);
    const jb = await b.join(roomId);
    await reaches(a, jb.self.peerId, 'live-media');
    await expect.poll(() => reports.length).toBe(1);
    expect(reports[0]).toMatchObject({ kind: 'call', candidateTypes: { host: 1 } });
    expect(reports[0]!.joinSeconds).toBeGreaterThan(0);
    // ICE fails on A's side (as a browser's connection does when its route is gone for good): counted once.
    const pc = pcs.at(-1)!;
    Object.defineProperty(pc, 'connectionState', { value: 'failed', configurable: true });
    pc.onconnectionstatechange?.();
    delete (pc as { connectionState?: unknown }).connectionState;
    a.leave();
    reporter.end();
    expect(reports[1]).toMatchObject({ kind: 'call', iceFailures: { failed: 1 } });
    expect(await Promise.all(statuses)).toEqual([204, 204]);
    const metrics = (await t.call('GET', '/metrics')).body as string;
    expect(metrics).toMatch(/^ice_failures_total\{kind="call",reason="failed"\} [1-9]/m);
    expect(metrics).toMatch(/^call_join_seconds_count [1-9]/m);
    expect(metrics).toMatch(/^ice_candidate_type_total\{kind="call",type="host"\} [1-9]/m);
  });

  it('an offer lost on the way is rolled back: the next transport-failed replay gets a new ICE-restart offer', async () => {
    const owner = await t.signUp('Mover');
    const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken as string;
    const roomId = (await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'call', title: 'Glare' } }))
      .body.id as string;
    const bPcs: RTCPeerConnection[] = [];
    // Only the two requests below may ask for offers. The media check stays out: B's restart offer, lost or not,
    // stalls werift's media for about a second, and on a loaded machine the check's own replay request then
    // lands on the fresh restart and makes a third offer, which werift (unlike a browser) does not survive.
    const quiet = { reconcile: { missingMs: 600_000 } };
    const a = client(owner.token, undefined, quiet);
    const b = client(guest, bPcs, quiet);
    a.setMedia({ camera: true, mic: true });
    b.setMedia({ camera: true, mic: true });
    const ja = await a.join(roomId);
    const jb = await b.join(roomId);
    const aId = ja.self.peerId;
    const bId = jb.self.peerId;
    expect(jb.links).toEqual([{ peerId: aId, initiatorId: bId }]);
    await Promise.all([reaches(a, bId, 'live-media'), reaches(b, aId, 'live-media')]);

    // B (the initiator) loses its next offer on the way, as one sent to a peer whose network just went away.
    const offers = watchOffers(b, 1);
    const aSignaling = a.signaling!;
    aSignaling.send('replay-request', { peerId: bId, reason: 'transport-failed' });
    await until(() => offers.length > 0);
    await until(() => bPcs[0]!.signalingState === 'have-local-offer');

    // A comes back and asks again: B must not wait for the lost answer but offer anew, restarting ICE.
    aSignaling.send('replay-request', { peerId: bId, reason: 'transport-failed' });
    await until(() => offers.length > 1 && bPcs[0]!.signalingState === 'stable');
    expect(offers).toEqual([
      { restartIce: true, dropped: true },
      { restartIce: true, dropped: false },
    ]);
    expect(bPcs).toHaveLength(1);
    await until(() => bPcs[0]!.connectionState === 'connected');
    await Promise.all([reaches(a, bId, 'live-media'), reaches(b, aId, 'live-media')]);
    expect((await t.call('GET', '/metrics')).body as string).toMatch(/signaling_ice_restarts_total [1-9]/);
    a.leave();
    b.leave();
  });

  describe('restarts ICE at once, not after the disconnected wait', () => {
    // The last-resort wait and the connect timeout are set far beyond the test's timeout: only an
    // immediate restart can pass.
    const slow = { reconcile: { disconnectedMs: 600_000, connectTimeoutMs: 600_000 } };

    /** A (joined first, the responder) and B (the initiator) in a call with live media both ways. */
    const pair = async (options: Partial<CallClientOptions> = {}) => {
      const owner = await t.signUp('Switcher');
      const guest = (await t.call('POST', '/api/auth/guest')).body.accessToken as string;
      const roomId = (
        await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'call', title: 'Switch' } })
      ).body.id as string;
      const aPcs: RTCPeerConnection[] = [];
      const bPcs: RTCPeerConnection[] = [];
      const a = client(owner.token, aPcs, { ...slow, ...options });
      const b = client(guest, bPcs, slow);
      a.setMedia({ camera: true, mic: true });
      b.setMedia({ camera: true, mic: true });
      const aId = (await a.join(roomId)).self.peerId;
      const bId = (await b.join(roomId)).self.peerId;
      await Promise.all([reaches(a, bId, 'live-media'), reaches(b, aId, 'live-media')]);
      return { a, b, aId, bId, aPcs, bPcs };
    };

    it('when the responder’s connection goes disconnected: it asks, the initiator offers an ICE restart', async () => {
      const { a, b, aId, bId, aPcs, bPcs } = await pair();
      const offers = watchOffers(b);
      const restore = fakeDisconnected(aPcs[0]!);
      await until(() => offers.length > 0 && bPcs[0]!.signalingState === 'stable');
      expect(offers).toEqual([{ restartIce: true, dropped: false }]);
      restore();
      await Promise.all([reaches(a, bId, 'live-media'), reaches(b, aId, 'live-media')]);
      a.leave();
      b.leave();
    });

    it('when the initiator’s connection goes disconnected: it offers an ICE restart itself', async () => {
      const { a, b, aId, bId, bPcs } = await pair();
      const offers = watchOffers(b);
      const restore = fakeDisconnected(bPcs[0]!);
      await until(() => offers.length > 0 && bPcs[0]!.signalingState === 'stable');
      expect(offers).toEqual([{ restartIce: true, dropped: false }]);
      restore();
      await Promise.all([reaches(a, bId, 'live-media'), reaches(b, aId, 'live-media')]);
      a.leave();
      b.leave();
    });

    it('when the device’s network changes (online, navigator.connection): signaling reconnects at once, then ICE restarts', async () => {
      let networkChanged: (() => void) | undefined;
      const { a, b, aId, bId, bPcs } = await pair({
        watchNetwork: (onChange) => {
          networkChanged = onChange;
          return () => {
            networkChanged = undefined;
          };
        },
      });
      const offers = watchOffers(b);
      // Its socket went with the old network without knowing it yet: the client does not wait to find out.
      const resumed = Promise.race([a.once('joined', (m) => m.resumed), b.once('joined', (m) => m.resumed)]);
      networkChanged!();
      await resumed;
      await until(() => offers.length > 0 && bPcs[0]!.signalingState === 'stable');
      expect(offers).toEqual([{ restartIce: true, dropped: false }]);
      await Promise.all([reaches(a, bId, 'live-media'), reaches(b, aId, 'live-media')]);
      a.leave();
      expect(networkChanged).toBeUndefined();
      b.leave();
    });

    it('a network change while signaling is down restarts ICE once the client has rejoined', async () => {
      let networkChanged: (() => void) | undefined;
      const { a, b, aId, bId, bPcs } = await pair({
        watchNetwork: (onChange) => {
          networkChanged = onChange;
          return () => {};
        },
      });
      const offers = watchOffers(b);
      const reconnecting = a.once('status', (s) => s === 'reconnecting');
      const resumed = a.once('joined', (m) => m.resumed);
      a.dropSignaling();
      await reconnecting;
      networkChanged!();
      await resumed;
      await until(() => offers.length > 0 && bPcs[0]!.signalingState === 'stable');
      expect(offers).toEqual([{ restartIce: true, dropped: false }]);
      await Promise.all([reaches(a, bId, 'live-media'), reaches(b, aId, 'live-media')]);
      a.leave();
      b.leave();
    });
  });

  it('the streamer’s client closes the peer connection when the server removes the payer', async () => {
    const streamer = await t.signUp('Streamer', { role: 'streamer' });
    const payer = await t.signUp('Payer');
    for (let i = 0; i < 4; i++) {
      const bought = await t.call('POST', '/api/wallet/purchases', {
        token: payer.token,
        headers: { 'idempotency-key': randomUUID() },
        body: { packId: 'ten', expectedPriceCents: 100 },
      });
      expect(bought.status).toBe(201);
    }
    const roomId = (
      await t.call('POST', '/api/rooms', {
        token: streamer.token,
        body: { kind: 'call', title: 'Private', pricePerMinute: 10 },
      })
    ).body.id as string;
    const hostPcs: RTCPeerConnection[] = [];
    const host = client(streamer.token, hostPcs);
    const guest = client(payer.token);
    host.setMedia({ camera: true, mic: true });
    guest.setMedia({ camera: true, mic: true });
    await host.join(roomId);
    const jg = await guest.join(roomId);
    const removed = guest.once('removed');
    await reaches(host, jg.self.peerId, 'live-media');
    expect(hostPcs).toHaveLength(1);
    expect(hostPcs[0]!.connectionState).toBe('connected');

    // Four minutes paid, the fifth cannot be: the server removes the payer and the streamer’s
    // client closes its peer connection, which ends the peer-to-peer media.
    const left = await host.once('peer-left');
    expect(left).toEqual({ peerId: jg.self.peerId, reason: 'removed' });
    expect((await removed).reason).toBe('balance');
    expect(host.peers).toEqual([]);
    expect(hostPcs[0]!.signalingState).toBe('closed');
    host.leave();
  });
});
