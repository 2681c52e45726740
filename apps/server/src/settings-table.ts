import { describeConfig, type Setting } from '@fusionflow/kit';

/** Markdown table of an app's settings, as docs/operations.md shows it. */
export function settingsTable(spec: Record<string, Setting<unknown>>): string {
  const rows = describeConfig(spec).map(
    (r) => `| \`${r.env}\` | ${r.default === '(unset)' ? '—' : `\`${r.default}\``} | ${r.doc.replaceAll('|', '\\|')} |`,
  );
  return ['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}
