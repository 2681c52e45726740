import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeConfig, loadConfig, read, setting } from './config.js';

const spec = {
  port: setting('PORT', read.int(0, 65535), 'port', { default: 8080 }),
  debug: setting('DEBUG_MODE', read.bool(), 'debug', { default: false }),
  origins: setting('ORIGINS', read.list(), 'origins', { default: [] as string[] }),
  secret: setting('SECRET', read.string(), 'secret', { secret: true }),
  url: setting('UPSTREAM', read.url(), 'upstream'),
};

describe('loadConfig', () => {
  it('applies defaults, then the environment, and freezes the result', () => {
    const c = loadConfig(spec, { env: { PORT: '9000', ORIGINS: 'a, b,,c', DEBUG_MODE: 'yes' } });
    expect(c).toEqual({ port: 9000, debug: true, origins: ['a', 'b', 'c'], secret: undefined, url: undefined });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig(spec, { env: { PORT: '' } }).port).toBe(8080);
  });

  it('names every bad variable and never echoes a secret', () => {
    try {
      loadConfig(spec, { env: { PORT: 'eighty', UPSTREAM: 'ftp://x', SECRET: 'x'.repeat(5000) } });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toContain('PORT: must be an integer (got "eighty")');
      expect(msg).toContain('UPSTREAM: must be a URL');
      expect(msg).toMatch(/SECRET: .*/);
      expect(msg).not.toContain('xxxxx');
    }
  });

  it('reads a JSON file under the environment and rejects unknown keys', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ff-config-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ PORT: 7000, DEBUG_MODE: true }));
    expect(loadConfig(spec, { env: { DEBUG_MODE: 'false' }, file })).toMatchObject({ port: 7000, debug: false });
    writeFileSync(file, JSON.stringify({ PORTT: 1 }));
    expect(() => loadConfig(spec, { env: {}, file })).toThrow(/PORTT .*unknown setting/);
  });

  it('reads JSON settings against their schema', async () => {
    const { z } = await import('zod');
    const jsonSpec = { packs: setting('PACKS', read.json(z.array(z.object({ id: z.string() }))), 'packs') };
    expect(loadConfig(jsonSpec, { env: { PACKS: '[{"id":"a"}]' } }).packs).toEqual([{ id: 'a' }]);
    expect(() => loadConfig(jsonSpec, { env: { PACKS: '[{"id":1}]' } })).toThrow(/PACKS: 0.id/);
    expect(() => loadConfig(jsonSpec, { env: { PACKS: 'nope' } })).toThrow(/PACKS: must be JSON/);
  });

  it('describes every setting for the manual', () => {
    expect(describeConfig(spec).map((r) => r.env)).toEqual(['PORT', 'DEBUG_MODE', 'ORIGINS', 'SECRET', 'UPSTREAM']);
  });
});
