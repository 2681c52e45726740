import { describe, expect, it, vi } from 'vitest';
import { WhepPlayer } from './whep-client.js';
import type { IceRestartEvent } from './whip-whep-session.js';

const sdp = (ufrag: string, candidate: string) =>
  [
    'v=0',
    'a=group:BUNDLE 0 1',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${ufrag}-password-password`,
    'a=mid:0',
    `a=candidate:${candidate}`,
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    `a=ice-ufrag:${ufrag}`,
    `a=ice-pwd:${ufrag}-password-password`,
    'a=mid:1',
    '',
  ].join('\r\n');

/** As much of an RTCPeerConnection as a WHEP session uses; each offer has new credentials when asked to restart. */
class FakePeer extends EventTarget {
  iceConnectionState: RTCIceConnectionState = 'new';
  iceGatheringState: RTCIceGatheringState = 'new';
  signalingState: RTCSignalingState = 'stable';
  localDescription: RTCSessionDescriptionInit | null = null;
  remoteDescription: RTCSessionDescriptionInit | null = null;
  readonly offers: RTCOfferOptions[] = [];
  rollbacks = 0;
  #generation = 0;
  addTransceiver() {}
  async createOffer(o: RTCOfferOptions = {}) {
    this.offers.push(o);
    if (o.iceRestart) this.#generation++;
    return { type: 'offer', sdp: sdp(`c${this.#generation}`, `${this.#generation} 1 udp 1 192.0.2.1 5000 typ host`) };
  }
  async setLocalDescription(d: RTCSessionDescriptionInit) {
    if (d.type === 'rollback') {
      this.rollbacks++;
      this.signalingState = 'stable';
      return;
    }
    this.localDescription = d;
    this.signalingState = 'have-local-offer';
    // Gathering is over at once.
    queueMicrotask(() => {
      this.iceGatheringState = 'complete';
      const e = new Event('icecandidate') as Event & { candidate: null };
      e.candidate = null;
      this.dispatchEvent(e);
    });
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.remoteDescription = d;
    this.signalingState = 'stable';
  }
  ice(state: RTCIceConnectionState) {
    this.iceConnectionState = state;
    this.dispatchEvent(new Event('iceconnectionstatechange'));
  }
  close() {
    this.ice('closed');
  }
}

interface Call {
  method: string;
  headers: Headers;
  body: string;
}

function server(patch: () => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetch = async (_url: string, init?: RequestInit) => {
    const call = { method: init?.method ?? 'GET', headers: new Headers(init?.headers), body: String(init?.body ?? '') };
    calls.push(call);
    if (call.method === 'POST') {
      return new Response(sdp('s0', '1 1 udp 1 198.51.100.1 40000 typ host'), {
        status: 201,
        headers: { location: '/api/whep/sessions/abc', etag: '"s0"' },
      });
    }
    if (call.method === 'PATCH') return patch();
    return new Response(null, { status: 200 });
  };
  /** ICE restarts (trickle PATCHes name the ETag, not `*`). */
  const patches = () => calls.filter((c) => c.method === 'PATCH' && c.headers.get('if-match') === '*');
  return { calls, fetch, patches };
}

const restartAnswer = () =>
  new Response(
    'a=ice-ufrag:s1\r\na=ice-pwd:s1-password-password\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:7 1 udp 1 198.51.100.1 40001 typ host\r\na=end-of-candidates\r\n',
    { status: 200, headers: { 'content-type': 'application/trickle-ice-sdpfrag', etag: '"s1"' } },
  );

function fakeNetwork() {
  const listeners = new Set<() => void>();
  return {
    watch: (f: () => void) => {
      listeners.add(f);
      return () => listeners.delete(f);
    },
    change: () => {
      for (const l of [...listeners]) l();
    },
    get watching() {
      return listeners.size;
    },
  };
}

async function started(
  patch: () => Response | Promise<Response>,
  extra: { autoRestartIce?: boolean; iceRestartTimeoutMs?: number; iceRestartSettleMs?: number } = {},
) {
  const s = server(patch);
  const network = fakeNetwork();
  let pc!: FakePeer;
  const player = new WhepPlayer({
    url: 'https://media.example/api/whep/play/room',
    fetch: s.fetch,
    RTCPeerConnection: class extends FakePeer {
      constructor() {
        super();
        pc = this;
      }
    } as never,
    gatherTimeoutMs: 1000,
    iceRestartTimeoutMs: 200,
    watchNetwork: network.watch,
    ...extra,
  });
  const events: IceRestartEvent[] = [];
  player.on('iceRestart', (e) => events.push(e));
  await player.start();
  pc.ice('connected');
  return { player, pc, network, events, ...s };
}

const until = async (what: string, predicate: () => boolean) => {
  for (let i = 0; i < 400 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!predicate()) throw new Error(`timed out waiting for ${what}`);
};

describe('WhipWhepSession ICE restarts', () => {
  it('restarts ICE at once when ICE goes disconnected: new credentials by PATCH, the answer rewritten', async () => {
    const t = await started(restartAnswer);
    t.pc.ice('disconnected');
    await until('the PATCH', () => t.patches().length === 1);
    const patch = t.patches()[0]!;
    expect(patch.headers.get('content-type')).toBe('application/trickle-ice-sdpfrag');
    expect(patch.headers.get('if-match')).toBe('*');
    expect(patch.body).toContain('a=ice-ufrag:c1\r\n');
    expect(patch.body).toContain('a=candidate:1 1 udp 1 192.0.2.1 5000 typ host');
    expect(t.pc.offers.at(-1)).toEqual({ iceRestart: true });
    await until('the new answer', () => t.pc.remoteDescription?.sdp?.includes('a=ice-ufrag:s1') === true);
    expect(t.pc.remoteDescription?.sdp).toContain('a=candidate:7 1 udp 1 198.51.100.1 40001 typ host');
    expect(t.pc.remoteDescription?.sdp).not.toContain('s0');
    expect(t.player.etag).toBe('"s1"');
    expect(t.events).toEqual([{ state: 'restarting', cause: 'disconnected' }]);
    t.pc.ice('connected');
    await until('restarted', () => t.events.length === 2);
    expect(t.events[1]).toEqual({ state: 'restarted' });
    await t.player.stop();
  });

  it('restarts on a network change, one restart at a time however many changes come', async () => {
    let answer: (r: Response) => void = () => {};
    const t = await started(() => new Promise<Response>((resolve) => (answer = resolve)));
    t.network.change();
    await until('the PATCH', () => t.patches().length === 1);
    t.network.change();
    t.pc.ice('disconnected');
    t.network.change();
    await new Promise((r) => setTimeout(r, 20));
    expect(t.patches()).toHaveLength(1);
    expect(t.events).toEqual([{ state: 'restarting', cause: 'network' }]);
    answer(restartAnswer());
    await until('the new answer', () => t.player.etag === '"s1"');
    t.pc.ice('connected');
    await until('restarted', () => t.events.length === 2);
    expect(t.events[1]).toEqual({ state: 'restarted' });
    // The next change is a restart of its own.
    t.network.change();
    await until('a second PATCH', () => t.patches().length === 2);
    await t.player.stop();
  });

  it('a network change while a restart waits for ICE starts a new restart at once, without waiting out the first', async () => {
    const t = await started(restartAnswer, { iceRestartTimeoutMs: 60_000 });
    t.pc.ice('disconnected');
    await until('the first answer', () => t.player.etag === '"s1"');
    // The first restart now waits for ICE on the network the device left; the device is on a new one.
    t.network.change();
    await until('a second PATCH', () => t.patches().length === 2);
    expect(t.patches()[1]!.body).toContain('a=ice-ufrag:c2\r\n');
    t.pc.ice('connected');
    await until('restarted', () => t.events.at(-1)?.state === 'restarted');
    expect(t.events).toEqual([
      { state: 'restarting', cause: 'disconnected' },
      { state: 'restarting', cause: 'network' },
      { state: 'restarted' },
    ]);
    await t.player.stop();
  });

  it('a disconnected right after a restart (the old route’s) waits for the new checks; still disconnected, it restarts', async () => {
    const t = await started(restartAnswer, { iceRestartSettleMs: 300 });
    t.network.change();
    await until('the answer', () => t.player.etag === '"s1"');
    t.pc.ice('connected');
    await until('restarted', () => t.events.at(-1)?.state === 'restarted');
    t.pc.ice('disconnected');
    await new Promise((r) => setTimeout(r, 100));
    expect(t.patches()).toHaveLength(1);
    await until('a second PATCH once settled', () => t.patches().length === 2);
    expect(t.events.at(-1)).toEqual({ state: 'restarting', cause: 'disconnected' });
    await t.player.stop();
  });

  it('a disconnected right after a restart that heals by itself restarts nothing', async () => {
    const t = await started(restartAnswer, { iceRestartSettleMs: 200 });
    t.network.change();
    await until('the answer', () => t.player.etag === '"s1"');
    t.pc.ice('connected');
    t.pc.ice('disconnected');
    t.pc.ice('connected');
    await new Promise((r) => setTimeout(r, 400));
    expect(t.patches()).toHaveLength(1);
    await t.player.stop();
  });

  it('does not restart on ICE disconnected while the browser is offline; the network change that follows does', async () => {
    vi.stubGlobal('navigator', { onLine: false });
    try {
      const t = await started(restartAnswer);
      t.pc.ice('disconnected');
      await new Promise((r) => setTimeout(r, 20));
      expect(t.patches()).toHaveLength(0);
      vi.stubGlobal('navigator', { onLine: true });
      t.network.change();
      await until('the PATCH', () => t.patches().length === 1);
      await t.player.stop();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('tells `failed` when the server no longer has the session (404), and rolls the offer back', async () => {
    const t = await started(
      () => new Response(JSON.stringify({ error: { code: 'not_found', message: 'no such session' } }), { status: 404 }),
    );
    t.network.change();
    await until('failed', () => t.events.length === 2);
    expect(t.events[1]).toMatchObject({ state: 'failed', error: { status: 404 } });
    expect(t.pc.rollbacks).toBe(1);
    await expect(t.player.restartIce()).rejects.toMatchObject({ status: 404 });
    await t.player.stop();
  });

  it('tells `failed` when ICE does not connect again after the restart', async () => {
    const t = await started(restartAnswer);
    t.pc.ice('disconnected');
    await until('failed', () => t.events.length === 2);
    expect(t.events[1]).toMatchObject({ state: 'failed', error: { code: 'timeout' } });
    await t.player.stop();
  });

  it('does not restart on its own when told not to, and stops watching the network once stopped', async () => {
    const manual = await started(restartAnswer, { autoRestartIce: false });
    manual.pc.ice('disconnected');
    manual.network.change();
    await new Promise((r) => setTimeout(r, 20));
    expect(manual.patches()).toHaveLength(0);
    await manual.player.stop();

    const auto = await started(restartAnswer);
    expect(auto.network.watching).toBe(1);
    await auto.player.stop();
    expect(auto.network.watching).toBe(0);
    await expect(auto.player.restartIce()).rejects.toMatchObject({ code: 'closed' });
  });
});

describe('WhipWhepSession endings', () => {
  it('stop() ends the session on the server (DELETE) and closes the peer connection', async () => {
    const t = await started(restartAnswer);
    await t.player.stop();
    expect(t.calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
    expect(t.pc.iceConnectionState).toBe('closed');
    await t.player.stop();
    expect(t.calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
  });

  it('drop() closes the peer connection without a DELETE (the server sees a drop), once; a later stop() does nothing', async () => {
    const t = await started(restartAnswer);
    await t.player.drop();
    expect(t.pc.iceConnectionState).toBe('closed');
    await t.player.drop();
    await t.player.stop();
    expect(t.calls.filter((c) => c.method === 'DELETE')).toHaveLength(0);
    // Closed for good: a network change starts no ICE restart.
    t.network.change();
    expect(t.patches()).toHaveLength(0);
    expect(t.network.watching).toBe(0);
  });
});
