import { describe, expect, it } from 'vitest';
import { Handle, handleCandidates, handleStem, isHandle } from './handle.js';

describe('Handle', () => {
  it('lowercases and accepts letters, digits and inner dashes, 3–30 long', () => {
    expect(Handle.parse(' Night-Owl ')).toBe('night-owl');
    expect(Handle.parse('a1b')).toBe('a1b');
    expect(Handle.parse('x'.repeat(30))).toBe('x'.repeat(30));
  });

  it.each([
    'ab',
    'x'.repeat(31),
    '-ab',
    'ab-',
    'a_b',
    'a b',
    'ñandu',
    'admin',
    'API',
    'c1'.slice(0, 1),
    'replays',
    'settings',
  ])('refuses %j', (value) => {
    expect(Handle.safeParse(value).success).toBe(false);
  });

  it('isHandle wants the stored (lowercase) form', () => {
    expect(isHandle('ann')).toBe(true);
    expect(isHandle('Ann')).toBe(false);
  });
});

describe('handleCandidates', () => {
  it('slugifies the display name and numbers the next ones, keeping within 30 characters', () => {
    expect(handleStem('  Zoë  Ünal & co. ')).toBe('zoe-unal-co');
    expect(handleCandidates('Zoë Ünal', 3)).toEqual(['zoe-unal', 'zoe-unal-2', 'zoe-unal-3']);
    const long = handleCandidates(`${'a'.repeat(29)} b`, 2);
    expect(long[0]).toBe('a'.repeat(29));
    expect(long[1]).toBe(`${'a'.repeat(28)}-2`);
    for (const h of handleCandidates('x'.repeat(60), 12)) expect(h.length).toBeLessThanOrEqual(30);
  });

  it('skips the stem when it is too short or reserved, and falls back to "user"', () => {
    expect(handleCandidates('Al', 2)).toEqual(['al-2', 'al-3']);
    expect(handleCandidates('Admin', 1)).toEqual(['admin-2']);
    expect(handleCandidates('東京', 2)).toEqual(['user', 'user-2']);
    expect(handleCandidates('Ann', 2, 10)).toEqual(['ann-10', 'ann-11']);
  });
});
