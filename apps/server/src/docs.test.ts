import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { serverSettings } from './config.js';
import { settingsTable } from './settings-table.js';

const operations = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');

/** Table text without the padding a formatter adds to align columns. */
const cells = (table: string) => table.replace(/ *\| */g, '|').replace(/\|-+(?=\|)/g, '|-');

function section(name: string): string {
  const match = new RegExp(`<!-- settings:${name} -->\\n([\\s\\S]*?)\\n<!-- /settings:${name} -->`).exec(operations);
  if (!match) throw new Error(`docs/operations.md has no settings:${name} section`);
  return match[1]!;
}

describe('docs/operations.md', () => {
  it('lists every control-plane setting with its default (regenerate: npm run docs:settings)', () => {
    expect(cells(section('server'))).toBe(cells(settingsTable(serverSettings)));
  });
});
