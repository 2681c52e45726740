import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { apertiumFor } from './test-apertium.js';

describe('the Apertium check of the tests', () => {
  // A machine that followed the README: apertium-apy with English⇄Spanish only.
  const modesDir = mkdtempSync(join(tmpdir(), 'ff-apertium-modes-'));
  for (const mode of ['eng-spa', 'spa-eng']) writeFileSync(join(modesDir, `${mode}.mode`), '');
  afterAll(() => rmSync(modesDir, { recursive: true, force: true }));
  const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
  afterAll(() => warn.mockRestore());

  it('lets a test run with exactly the pairs it uses', () => {
    expect(apertiumFor(['en|es', 'es|en'], { modesDir, env: {}, hasApy: true })).toEqual({ ok: true, reason: '' });
  });

  it('skips a test whose pair is missing, naming the Debian package to install', () => {
    const check = apertiumFor(['en|es', 'en|ca'], { modesDir, env: {}, hasApy: true });
    expect(check.ok).toBe(false);
    expect(check.reason).toBe('Apertium pair en|ca is not installed (apt-get install apertium-eng-cat)');
    expect(warn).toHaveBeenCalledWith(`skipped: ${check.reason}`);
  });

  it('names apertium-apy and the pairs’ packages when APy itself is missing', () => {
    const check = apertiumFor(['en|es', 'fr|es'], { modesDir, env: {}, hasApy: false });
    expect(check).toEqual({
      ok: false,
      reason: 'apertium-apy is not installed (apt-get install apertium-apy apertium-eng-spa apertium-fr-es)',
    });
  });

  it('fails instead of skipping with FF_REQUIRE_APERTIUM=1 (CI)', () => {
    const env = { FF_REQUIRE_APERTIUM: '1' };
    expect(() => apertiumFor(['en|ca'], { modesDir, env, hasApy: true })).toThrow(
      'FF_REQUIRE_APERTIUM=1 but Apertium pair en|ca is not installed (apt-get install apertium-eng-cat)',
    );
    expect(() => apertiumFor(['en|es'], { modesDir, env, hasApy: false })).toThrow(/apertium-apy is not installed/);
    expect(apertiumFor(['en|es'], { modesDir, env, hasApy: true }).ok).toBe(true);
  });

  it('refuses a pair it cannot name a package for (the table must know every pair a test uses)', () => {
    expect(() => apertiumFor(['en|ja'], { modesDir, env: {}, hasApy: true })).toThrow(/no Debian package known/);
  });
});
