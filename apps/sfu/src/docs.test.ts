import { readFileSync } from 'node:fs';
import { settingsTable } from '@fusionflow/kit';
import { describe, expect, it } from 'vitest';
import { sfuSettings } from './config.js';

const operations = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');
const cells = (table: string) => table.replace(/ *\| */g, '|').replace(/\|-+(?=\|)/g, '|-');

describe('docs/operations.md', () => {
  it('lists every SFU setting with its default (regenerate: npm run docs:settings)', () => {
    const match = /<!-- settings:sfu -->\n([\s\S]*?)\n<!-- \/settings:sfu -->/.exec(operations);
    expect(match, 'docs/operations.md has a settings:sfu section').not.toBeNull();
    expect(cells(match![1]!)).toBe(cells(settingsTable(sfuSettings)));
  });
});
