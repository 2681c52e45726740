import { afterEach, describe, expect, it, vi } from 'vitest';
import { firstCandidates, IceTrickle } from './ice-trickle.js';

const OFFER = [
  'v=0',
  'a=group:BUNDLE 0 1',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=mid:0',
  'a=ice-ufrag:Ufrg',
  'a=ice-pwd:thepasswordthepasswordpw',
  'a=candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'a=mid:1',
].join('\r\n');

/** An RTCPeerConnection as far as trickling goes: events, a gathering state and a local description. */
class FakePeer extends EventTarget {
  iceGatheringState: RTCIceGatheringState = 'gathering';
  localDescription = { type: 'offer', sdp: OFFER } as RTCSessionDescription;
  candidate(candidate: string | null) {
    const event = new Event('icecandidate') as Event & { candidate: unknown };
    event.candidate = candidate === null ? null : { candidate, sdpMid: '0', sdpMLineIndex: 0 };
    this.dispatchEvent(event);
  }
  complete() {
    this.iceGatheringState = 'complete';
    this.dispatchEvent(new Event('icegatheringstatechange'));
  }
}

const host = 'candidate:1 1 udp 2122260223 192.0.2.10 50000 typ host';
const relay = 'candidate:7 1 tcp 8331263 203.0.113.5 443 typ relay raddr 0.0.0.0 rport 0 tcptype passive';
const srflx = 'candidate:3 1 udp 1686052607 198.51.100.7 61000 typ srflx raddr 192.0.2.10 rport 50000';

afterEach(() => vi.useRealTimers());

describe('IceTrickle', () => {
  it('sends the candidates found after the offer in one PATCH, once the session URL is known, then the end', async () => {
    vi.useFakeTimers();
    const pc = new FakePeer();
    const calls: { url: string; init: RequestInit }[] = [];
    const fetch = vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ url, init: init! });
      return new Response(null, { status: 204 });
    });
    const trickle = new IceTrickle(pc as unknown as RTCPeerConnection, fetch);
    // One already in the offer, two found while the POST was out.
    pc.candidate(host);
    pc.candidate(srflx);
    pc.candidate(relay);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(0);
    trickle.ready('https://media.example/api/whep/sessions/abc', '"Ufrg"', OFFER);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(1);
    const first = calls[0]!;
    expect(first.url).toBe('https://media.example/api/whep/sessions/abc');
    expect(first.init.method).toBe('PATCH');
    expect(first.init.headers).toMatchObject({
      'content-type': 'application/trickle-ice-sdpfrag',
      'if-match': '"Ufrg"',
    });
    const body = String(first.init.body).split('\r\n');
    // The offer's credentials (not a restart), one media section, the new candidates only.
    expect(body.slice(0, 4)).toEqual([
      'a=ice-ufrag:Ufrg',
      'a=ice-pwd:thepasswordthepasswordpw',
      'm=audio 9 UDP/TLS/RTP/SAVPF 0',
      'a=mid:0',
    ]);
    expect(body.filter((l) => l.startsWith('a=candidate:'))).toEqual([`a=${srflx}`, `a=${relay}`]);
    expect(body).not.toContain('a=end-of-candidates');
    // Gathering ends: the end goes alone; the same candidate twice is not sent again.
    pc.candidate(relay);
    pc.candidate(null);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(2);
    const end = String(calls[1]!.init.body).split('\r\n');
    expect(end.filter((l) => l.startsWith('a=candidate:'))).toEqual([]);
    expect(end).toContain('a=end-of-candidates');
    trickle.close();
  });

  it('sends nothing after close, and a failed PATCH does not throw', async () => {
    vi.useFakeTimers();
    const pc = new FakePeer();
    const fetch = vi.fn(async () => {
      throw new TypeError('offline');
    });
    const trickle = new IceTrickle(pc as unknown as RTCPeerConnection, fetch);
    trickle.ready('https://media.example/s', null, OFFER);
    pc.candidate(relay);
    await vi.advanceTimersByTimeAsync(100);
    expect(fetch).toHaveBeenCalledTimes(1);
    trickle.close();
    pc.candidate(srflx);
    pc.candidate(null);
    await vi.advanceTimersByTimeAsync(100);
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});

describe('IceTrickle across an ICE restart', () => {
  it('drops what the old credentials did not send, waits for the restart, then trickles with the new ones', async () => {
    vi.useFakeTimers();
    const pc = new FakePeer();
    const calls: RequestInit[] = [];
    let answerFirst: () => void = () => {};
    const fetch = vi.fn(async (_url: string, init?: RequestInit) => {
      calls.push(init!);
      if (calls.length === 1) await new Promise<void>((r) => (answerFirst = r));
      return new Response(null, { status: 204 });
    });
    const trickle = new IceTrickle(pc as unknown as RTCPeerConnection, fetch);
    trickle.ready('https://media.example/s', '"Ufrg"', OFFER);
    pc.candidate(srflx);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(1);
    // A restart begins while that PATCH is out, with one more old candidate not sent yet.
    pc.candidate(relay);
    let paused = false;
    void trickle.restarting().then(() => {
      paused = true;
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(paused).toBe(false); // the old PATCH is still out
    answerFirst();
    await vi.advanceTimersByTimeAsync(0);
    expect(paused).toBe(true);
    // The new offer (new credentials) and a candidate of it found before the restart is answered.
    const next = OFFER.replace('a=ice-ufrag:Ufrg', 'a=ice-ufrag:Nw2').replace(
      'thepasswordthepasswordpw',
      'anotherpasswordanotherp',
    );
    pc.localDescription = { type: 'offer', sdp: next } as RTCSessionDescription;
    const fresh = 'candidate:9 1 udp 2122260223 192.0.2.11 50001 typ host';
    pc.candidate(fresh);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(1);
    trickle.ready('https://media.example/s', '"Srv2"', next);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.headers).toMatchObject({ 'if-match': '"Srv2"' });
    const body = String(calls[1]!.body).split('\r\n');
    expect(body.slice(0, 2)).toEqual(['a=ice-ufrag:Nw2', 'a=ice-pwd:anotherpasswordanotherp']);
    expect(body.filter((l) => l.startsWith('a=candidate:'))).toEqual([`a=${fresh}`]);
    trickle.close();
  });
});

describe('firstCandidates', () => {
  it('resolves a moment after the first candidate, without waiting for gathering to complete', async () => {
    vi.useFakeTimers();
    const pc = new FakePeer();
    let done = false;
    void firstCandidates(pc as unknown as RTCPeerConnection, 3000).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(500);
    expect(done).toBe(false);
    pc.candidate(host);
    await vi.advanceTimersByTimeAsync(100);
    expect(done).toBe(true);
  });

  it('resolves when gathering completes, and at the timeout when nothing comes (a UDP block)', async () => {
    vi.useFakeTimers();
    const a = new FakePeer();
    let aDone = false;
    void firstCandidates(a as unknown as RTCPeerConnection, 3000).then(() => {
      aDone = true;
    });
    a.complete();
    await vi.advanceTimersByTimeAsync(0);
    expect(aDone).toBe(true);
    const b = new FakePeer();
    let bDone = false;
    void firstCandidates(b as unknown as RTCPeerConnection, 3000).then(() => {
      bDone = true;
    });
    await vi.advanceTimersByTimeAsync(2999);
    expect(bDone).toBe(false);
    await vi.advanceTimersByTimeAsync(2);
    expect(bDone).toBe(true);
  });
});
