import { describe, expect, it } from 'vitest';
import { answerWithNewIce, iceCredentialsOf, iceRestartFragment } from './ice-restart.js';

const ANSWER = [
  'v=0',
  'o=- 1 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=msid-semantic:WMS *',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:old1',
  'a=ice-pwd:oldpasswordoldpassword',
  'a=fingerprint:sha-256 AA:BB',
  'a=setup:passive',
  'a=mid:0',
  'a=sendonly',
  'a=rtpmap:96 VP8/90000',
  'a=candidate:1 1 udp 2130706431 10.0.0.1 40000 typ host',
  'a=end-of-candidates',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=ice-ufrag:old1',
  'a=ice-pwd:oldpasswordoldpassword',
  'a=mid:1',
  'a=sendonly',
  'a=rtpmap:111 opus/48000/2',
  'a=candidate:1 1 udp 2130706431 10.0.0.1 40000 typ host',
  '',
].join('\r\n');

const FRAGMENT = [
  'a=ice-ufrag:new2',
  'a=ice-pwd:newpasswordnewpassword',
  'm=audio 9 UDP/TLS/RTP/SAVPF 0',
  'a=mid:0',
  'a=candidate:2 1 udp 2130706431 10.0.0.2 41000 typ host',
  'a=candidate:3 1 udp 1694498815 198.51.100.9 41000 typ srflx raddr 10.0.0.2 rport 41000',
  'a=end-of-candidates',
  '',
].join('\r\n');

describe('iceCredentialsOf', () => {
  it('reads the credentials, the distinct candidates and the end of an ICE fragment', () => {
    expect(iceCredentialsOf(FRAGMENT)).toEqual({
      ufrag: 'new2',
      pwd: 'newpasswordnewpassword',
      candidates: [
        'candidate:2 1 udp 2130706431 10.0.0.2 41000 typ host',
        'candidate:3 1 udp 1694498815 198.51.100.9 41000 typ srflx raddr 10.0.0.2 rport 41000',
      ],
      endOfCandidates: true,
    });
    expect(iceCredentialsOf(ANSWER)?.candidates).toHaveLength(1);
  });

  it('has nothing for a body without both credentials', () => {
    expect(iceCredentialsOf('a=candidate:2 1 udp 1 10.0.0.2 41000 typ host\r\n')).toBeUndefined();
    expect(iceCredentialsOf('a=ice-ufrag:x\r\n')).toBeUndefined();
    expect(iceCredentialsOf('')).toBeUndefined();
  });
});

describe('answerWithNewIce', () => {
  const rewritten = answerWithNewIce(ANSWER, iceCredentialsOf(FRAGMENT)!);
  const lines = rewritten.split('\r\n');

  it('puts the new credentials wherever the old ones were, and none of the old ones remain', () => {
    expect(lines.filter((l) => l === 'a=ice-ufrag:new2')).toHaveLength(2);
    expect(lines.filter((l) => l === 'a=ice-pwd:newpasswordnewpassword')).toHaveLength(2);
    expect(rewritten).not.toContain('old1');
    expect(rewritten).not.toContain('oldpassword');
  });

  it('replaces the old candidates with the new ones, in the first (bundled) media section', () => {
    expect(rewritten).not.toContain('10.0.0.1');
    const audio = lines.indexOf('m=audio 9 UDP/TLS/RTP/SAVPF 111');
    const video = lines.slice(0, audio);
    expect(video.filter((l) => l.startsWith('a=candidate:'))).toEqual([
      'a=candidate:2 1 udp 2130706431 10.0.0.2 41000 typ host',
      'a=candidate:3 1 udp 1694498815 198.51.100.9 41000 typ srflx raddr 10.0.0.2 rport 41000',
    ]);
    expect(video).toContain('a=end-of-candidates');
    expect(lines.slice(audio).some((l) => l.startsWith('a=candidate:') || l === 'a=end-of-candidates')).toBe(false);
  });

  it('keeps everything else as it was, in order', () => {
    const rest = (sdp: string) =>
      sdp.split('\r\n').filter((l) => l !== '' && !/^a=(ice-ufrag|ice-pwd|candidate|end-of-candidates)/.test(l));
    expect(rest(rewritten)).toEqual(rest(ANSWER));
    expect(rewritten.endsWith('\r\n')).toBe(true);
  });

  it('works on an answer with one media section and no end-of-candidates in the fragment', () => {
    const single = ANSWER.slice(0, ANSWER.indexOf('m=audio'));
    const out = answerWithNewIce(single, {
      ufrag: 'u',
      pwd: 'p',
      candidates: ['candidate:9 1 udp 1 10.9.9.9 9 typ host'],
      endOfCandidates: false,
    });
    expect(out).toContain('a=ice-ufrag:u\r\n');
    expect(out.trimEnd().split('\r\n').at(-1)).toBe('a=candidate:9 1 udp 1 10.9.9.9 9 typ host');
    expect(out).not.toContain('end-of-candidates');
  });
});

describe('iceRestartFragment', () => {
  it('carries the new offer’s credentials, its mid and its candidates so far', () => {
    const offer = ANSWER.replace(/old1/g, 'off3').replace(/oldpasswordoldpassword/g, 'offerpasswordofferpassw');
    expect(iceRestartFragment(offer)).toBe(
      [
        'a=ice-ufrag:off3',
        'a=ice-pwd:offerpasswordofferpassw',
        'm=audio 9 UDP/TLS/RTP/SAVPF 0',
        'a=mid:0',
        'a=candidate:1 1 udp 2130706431 10.0.0.1 40000 typ host',
        'a=end-of-candidates',
        '',
      ].join('\r\n'),
    );
    expect(iceRestartFragment('v=0\r\n')).toBeUndefined();
  });
});
