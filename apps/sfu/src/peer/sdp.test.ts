import { describe, expect, it } from 'vitest';
import { checkOffer, iceFragmentOf, normalizeOffer, parseIceFragment, rejectedMids } from './sdp.js';

describe('SDP helpers', () => {
  it('refuses what is not an offer the SFU can use', () => {
    expect(() => checkOffer('hello')).toThrow(/v=0/);
    expect(() => checkOffer('v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n')).toThrow(/audio or video/);
    expect(() => checkOffer('v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n')).toThrow(/fingerprint/);
  });

  it('parses trickle fragments: candidates per m-line, credentials for a restart', () => {
    const f = parseIceFragment(
      'a=ice-ufrag:u1\r\na=ice-pwd:p1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=candidate:1 1 udp 1 127.0.0.1 5000 typ host\r\na=end-of-candidates\r\n',
    );
    expect(f).toMatchObject({ ufrag: 'u1', pwd: 'p1', endOfCandidates: true });
    expect(f.candidates).toEqual([
      { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 },
    ]);
    expect(() => parseIceFragment('a=ice-ufrag:only\r\n')).toThrow(/both/);
  });

  it('gives bundle-only m-lines a port werift accepts', () => {
    const offer =
      'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\nm=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=bundle-only\r\na=mid:1\r\n';
    expect(normalizeOffer(offer)).toContain('m=audio 9 UDP/TLS/RTP/SAVPF 111');
    expect(normalizeOffer(offer.replace('a=bundle-only\r\n', ''))).toContain('m=audio 0 ');
    // A bundle-only m-line is not rejected; a port-0 one without it is.
    expect([...rejectedMids(normalizeOffer(offer))]).toEqual([]);
    expect([...rejectedMids(normalizeOffer(offer.replace('a=bundle-only\r\n', '')))]).toEqual(['1']);
  });

  it('answers a restart with credentials and candidates', () => {
    const frag = iceFragmentOf(
      'v=0\r\nm=video 9 X 96\r\na=ice-ufrag:s\r\na=ice-pwd:pw\r\na=mid:0\r\na=candidate:1 1 udp 1 127.0.0.1 1 typ host\r\n',
    );
    expect(frag).toContain('a=ice-ufrag:s');
    expect(frag).toContain('a=candidate:1 1 udp 1 127.0.0.1 1 typ host');
    expect(frag).toContain('a=end-of-candidates');
  });
});
