import { describe, expect, it } from 'vitest';
import { MediaTokens } from './media-token.js';

describe('MediaTokens', () => {
  let now = 1_800_000_000_000;
  const tokens = new MediaTokens({ secret: 'a-secret-of-at-least-32-characters!!', ttlSeconds: 600, now: () => now });

  it('verifies a token for its file until it expires', () => {
    const { token, expiresAt } = tokens.sign('rec12345', 'rec12345.webm');
    expect(expiresAt.getTime()).toBe(now + 600_000);
    expect(tokens.verify('rec12345', 'rec12345.webm', token)).toBe(true);
    now += 599_000;
    expect(tokens.verify('rec12345', 'rec12345.webm', token)).toBe(true);
    now += 1000;
    expect(tokens.verify('rec12345', 'rec12345.webm', token)).toBe(false);
  });

  it('refuses another file, another recording, a stretched expiry, another secret and garbage', () => {
    const { token } = tokens.sign('rec12345', 'a.webm');
    const [exp, mac] = token.split('.') as [string, string];
    expect(tokens.verify('rec12345', 'b.webm', token)).toBe(false);
    expect(tokens.verify('rec99999', 'a.webm', token)).toBe(false);
    expect(tokens.verify('rec12345', 'a.webm', `${Number(exp) + 3600}.${mac}`)).toBe(false);
    const other = new MediaTokens({ secret: 'another-secret-of-32-characters!!!!', ttlSeconds: 600, now: () => now });
    expect(other.verify('rec12345', 'a.webm', token)).toBe(false);
    for (const bad of [undefined, '', 'x', `${exp}.`, `${exp}.${mac}x`, `-1.${mac}`]) {
      expect(tokens.verify('rec12345', 'a.webm', bad)).toBe(false);
    }
  });
});
