// Rewrites the settings tables in docs/operations.md from the apps' config specs.
import { readFileSync, writeFileSync } from 'node:fs';
import { serverSettings } from '../apps/server/src/config.js';
import { sfuSettings } from '../apps/sfu/src/config.js';
import { settingsTable } from '../packages/kit/src/config.js';

const file = new URL('../docs/operations.md', import.meta.url);
let text = readFileSync(file, 'utf8');
const tables: Record<string, string> = { server: settingsTable(serverSettings), sfu: settingsTable(sfuSettings) };
for (const [name, table] of Object.entries(tables)) {
  const re = new RegExp(`(<!-- settings:${name} -->\\n)(?:[\\s\\S]*?\\n)?(<!-- /settings:${name} -->)`);
  if (!re.test(text)) throw new Error(`no settings:${name} section in docs/operations.md`);
  text = text.replace(re, `$1${table}\n$2`);
}
writeFileSync(file, text);
console.log('docs/operations.md settings tables updated');
