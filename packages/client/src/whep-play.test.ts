import { describe, expect, it } from 'vitest';
import { RetryingWhepPlayer, type RetryingWhepState } from './retrying-whep-player.js';
import { WhepPlayer } from './whep-client.js';

const offerSdp = (candidates: string[]) =>
  [
    'v=0',
    'a=group:BUNDLE 0 1',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'a=ice-ufrag:c0',
    'a=ice-pwd:c0-password-password',
    'a=mid:0',
    ...candidates.map((c) => `a=${c}`),
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'a=mid:1',
    '',
  ].join('\r\n');

/**
 * As much of an RTCPeerConnection as a WHEP player uses. Gathering finds what `candidates` is given, a moment after
 * setLocalDescription, and completes only when told (`complete`): a TURN/UDP allocation behind a UDP block never does.
 */
class FakePeer extends EventTarget {
  static made: FakePeer[] = [];
  static candidates = ['candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host'];
  connectionState: RTCPeerConnectionState = 'new';
  iceConnectionState: RTCIceConnectionState = 'new';
  iceGatheringState: RTCIceGatheringState = 'new';
  signalingState: RTCSignalingState = 'stable';
  remoteDescription: RTCSessionDescriptionInit | null = null;
  readonly gathered: string[] = [];
  #local = false;
  constructor() {
    super();
    FakePeer.made.push(this);
  }
  get localDescription() {
    // As browsers do: the local description carries the candidates gathered so far.
    return this.#local ? { type: 'offer' as const, sdp: offerSdp(this.gathered) } : null;
  }
  addTransceiver() {}
  async createOffer() {
    return { type: 'offer' as const, sdp: offerSdp([]) };
  }
  async setLocalDescription() {
    this.#local = true;
    this.iceGatheringState = 'gathering';
    setTimeout(() => {
      for (const c of FakePeer.candidates) this.candidate(c);
    }, 10);
  }
  candidate(c: string | null) {
    if (c) this.gathered.push(c);
    else this.iceGatheringState = 'complete';
    const e = new Event('icecandidate') as Event & { candidate: unknown };
    e.candidate = c ? { candidate: c, sdpMid: '0' } : null;
    this.dispatchEvent(e);
  }
  async setRemoteDescription(d: RTCSessionDescriptionInit) {
    this.remoteDescription = d;
    this.connectionState = 'connected';
    queueMicrotask(() => this.dispatchEvent(new Event('connectionstatechange')));
  }
  close() {
    this.connectionState = 'closed';
  }
}

interface Call {
  at: number;
  method: string;
  url: string;
  headers: Headers;
  body: string;
}

const answer = () =>
  new Response(offerSdp(['candidate:9 1 udp 1 198.51.100.1 40000 typ host']).replace(/c0/g, 's0'), {
    status: 201,
    headers: { location: '/api/whep/sessions/abc', etag: '"s0"', 'content-type': 'application/sdp' },
  });

function server(post: (n: number) => Response) {
  const calls: Call[] = [];
  let posts = 0;
  const fetch = async (url: string, init?: RequestInit) => {
    const call = {
      at: Date.now(),
      method: init?.method ?? 'GET',
      url,
      headers: new Headers(init?.headers),
      body: String(init?.body ?? ''),
    };
    calls.push(call);
    if (call.method === 'POST') return post(posts++);
    if (call.method === 'PATCH') return new Response(null, { status: 204 });
    return new Response(null, { status: 200 });
  };
  return { calls, fetch };
}

const until = async (what: string, predicate: () => boolean, ms = 3000) => {
  for (let waited = 0; waited < ms && !predicate(); waited += 5) await new Promise((r) => setTimeout(r, 5));
  if (!predicate()) throw new Error(`timed out waiting for ${what}`);
};

describe('WhepPlayer: the offer goes with the first candidates, the rest trickle', () => {
  it('POSTs a moment after the first candidate, not after the gathering timeout; later candidates go by PATCH', async () => {
    FakePeer.made = [];
    const s = server(() => answer());
    const player = new WhepPlayer({
      url: 'https://media.example/api/whep/play/room',
      fetch: s.fetch,
      RTCPeerConnection: FakePeer as never,
      gatherTimeoutMs: 3000,
      autoRestartIce: false,
    });
    const started = Date.now();
    await player.start();
    const [post] = s.calls;
    expect(post?.method).toBe('POST');
    // Gathering never completed (a TURN/UDP allocation behind a UDP block): the offer did not wait the 3 s out.
    expect(post!.at - started).toBeLessThan(1000);
    expect(post!.body).toContain('a=candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host');
    const pc = FakePeer.made[0]!;
    // The relay candidate comes later: it trickles to the session URL with the offer's credentials and the ETag.
    pc.candidate('candidate:2 1 tcp 1 203.0.113.5 443 typ relay raddr 0.0.0.0 rport 0 tcptype passive');
    pc.candidate(null);
    await until('the trickle PATCH', () => s.calls.some((c) => c.method === 'PATCH'));
    await until('the end of candidates', () => s.calls.some((c) => c.body.includes('a=end-of-candidates')));
    const patches = s.calls.filter((c) => c.method === 'PATCH');
    expect(patches[0]!.url).toBe('https://media.example/api/whep/sessions/abc');
    expect(patches[0]!.headers.get('content-type')).toBe('application/trickle-ice-sdpfrag');
    expect(patches[0]!.headers.get('if-match')).toBe('"s0"');
    const sent = patches.map((p) => p.body).join('');
    expect(sent).toContain('a=ice-ufrag:c0');
    expect(sent).toContain('typ relay');
    // The candidate the offer carried is not sent again.
    expect(sent).not.toContain('192.0.2.1 50000');
    await player.stop();
  });
});

describe('RetryingWhepPlayer while nobody publishes (409 with Retry-After, the WHEP draft)', () => {
  it('waits what Retry-After says, asks for fresh options and plays once the publisher is there', async () => {
    FakePeer.made = [];
    const s = server((n) =>
      n === 0
        ? new Response(JSON.stringify({ error: { code: 'no_publisher', message: 'nobody publishes yet' } }), {
            status: 409,
            headers: { 'content-type': 'application/json', 'retry-after': '1' },
          })
        : answer(),
    );
    let asked = 0;
    const states: RetryingWhepState[] = [];
    const viewer = new RetryingWhepPlayer({
      session: async () => {
        asked++;
        return {
          url: 'https://media.example/api/whep/play/room',
          token: `grant-${asked}`,
          fetch: s.fetch,
          RTCPeerConnection: FakePeer as never,
          autoRestartIce: false,
        };
      },
      random: () => 0,
    });
    viewer.on('state', (state) => states.push(state));
    viewer.start();
    await until('playing', () => viewer.state.state === 'playing', 5000);
    const retrying = states.find((x) => x.state === 'retrying');
    expect(retrying).toMatchObject({ state: 'retrying', failure: { reason: 'waiting', retryAfterSeconds: 1 } });
    expect((retrying as { retryInMs: number }).retryInMs).toBe(1000);
    const posts = s.calls.filter((c) => c.method === 'POST');
    expect(posts).toHaveLength(2);
    expect(posts[1]!.at - posts[0]!.at).toBeGreaterThanOrEqual(990);
    // A fresh grant for the second try (one grant opens one session).
    expect(asked).toBe(2);
    expect(posts.map((p) => p.headers.get('authorization'))).toEqual(['Bearer grant-1', 'Bearer grant-2']);
    await viewer.stop();
  });
});
