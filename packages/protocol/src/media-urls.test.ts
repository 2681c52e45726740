import { describe, expect, it } from 'vitest';
import {
  isMediaPath,
  isWhepPlayPath,
  mediaSessionPath,
  onMediaNode,
  sessionPathOnNode,
  splitMediaNode,
  whepUrl,
  whipUrl,
} from './media-urls.js';

describe('WHIP/WHEP URL layout', () => {
  it('builds endpoint paths and URLs on an origin', () => {
    expect(whipUrl('r1')).toBe('/api/whip/publish/r1');
    expect(whepUrl('r1', 'https://live.example.com')).toBe('https://live.example.com/api/whep/play/r1');
    expect(mediaSessionPath('whep', 's1')).toBe('/api/whep/sessions/s1');
  });

  it('tells media paths from the rest of the API', () => {
    expect(isMediaPath('/api/whip/sessions/x')).toBe(true);
    expect(isMediaPath('/api/whep/play/r')).toBe(true);
    expect(isMediaPath('/api/whipper')).toBe(false);
    expect(isMediaPath('/api/rooms')).toBe(false);
    expect(isWhepPlayPath('/api/whep/play/r')).toBe(true);
    expect(isWhepPlayPath('/api/whep/sessions/s')).toBe(false);
  });
});

describe('node-named WHIP/WHEP URLs (several SFU nodes)', () => {
  it('names a node on an endpoint URL, and leaves it alone without one', () => {
    expect(onMediaNode(whepUrl('r1', 'https://live.example.com'), 'n1')).toBe(
      'https://live.example.com/api/whep/play/r1?node=n1',
    );
    expect(onMediaNode('/api/whip/publish/r1?x=1', 'n.2')).toBe('/api/whip/publish/r1?x=1&node=n.2');
    expect(onMediaNode('/api/whip/publish/r1', undefined)).toBe('/api/whip/publish/r1');
  });

  it('takes the node out of an endpoint or session path, keeping the rest of the path and query', () => {
    expect(splitMediaNode('/api/whep/play/r1?node=n1')).toEqual({ node: 'n1', url: '/api/whep/play/r1' });
    expect(splitMediaNode('/api/whip/publish/r1?a=b&node=n1')).toEqual({ node: 'n1', url: '/api/whip/publish/r1?a=b' });
    expect(splitMediaNode('/api/whep/sessions/n1~abc')).toEqual({ node: 'n1', url: '/api/whep/sessions/abc' });
    expect(splitMediaNode('/api/whep/sessions/n1~abc/events')).toEqual({
      node: 'n1',
      url: '/api/whep/sessions/abc/events',
    });
    expect(splitMediaNode('/api/whip/sessions/n-1~abc?x=1')).toEqual({
      node: 'n-1',
      url: '/api/whip/sessions/abc?x=1',
    });
  });

  it('names no node when the URL names none (one SFU: forwarded as it came)', () => {
    for (const url of [
      '/api/whep/play/r1',
      '/api/whep/sessions/abc',
      '/api/whep/sessions/abc/layer',
      '/api/whep/sessions/~abc',
      '/api/whep/sessions/abc/x~y',
    ]) {
      expect(splitMediaNode(url)).toEqual({ node: undefined, url });
    }
  });

  it('names the node in session URLs of a Location and of Link headers, and the split takes it out again', () => {
    expect(sessionPathOnNode('/api/whep/sessions/abc', 'n1')).toBe('/api/whep/sessions/n1~abc');
    expect(sessionPathOnNode('</api/whep/sessions/abc/events>; rel="x"', 'n1')).toBe(
      '</api/whep/sessions/n1~abc/events>; rel="x"',
    );
    expect(sessionPathOnNode('<stun:stun.example.net>; rel="ice-server"', 'n1')).toBe(
      '<stun:stun.example.net>; rel="ice-server"',
    );
    expect(splitMediaNode(`${sessionPathOnNode(mediaSessionPath('whip', 's_1-x'), 'node.a')}/events`)).toEqual({
      node: 'node.a',
      url: '/api/whip/sessions/s_1-x/events',
    });
  });
});
