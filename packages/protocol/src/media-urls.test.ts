import { describe, expect, it } from 'vitest';
import { isMediaPath, isWhepPlayPath, mediaSessionPath, whepUrl, whipUrl } from './media-urls.js';

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
