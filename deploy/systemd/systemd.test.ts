import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tools } from '../../test/support/tools.js';

const analyze = tools.systemdAnalyze();
const unit = (name: string) => fileURLToPath(new URL(`./${name}`, import.meta.url));

/** systemd's own checks of the shipped units: they parse, and they are locked down. */
describe.skipIf(!analyze.available).each(['fusionflow-server.service', 'fusionflow-sfu.service'])('%s', (name) => {
  it('passes systemd-analyze verify', () => {
    const out = execFileSync('systemd-analyze', ['verify', unit(name)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toBe('');
  });

  it('is hardened: systemd-analyze security rates its exposure 2.0 or lower (of 10)', () => {
    const out = execFileSync('systemd-analyze', ['security', '--offline=true', unit(name)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(out)?.[1]);
    expect(score).toBeLessThanOrEqual(2);
  });
});
