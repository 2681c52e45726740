// npx tsx bench/sfu/heap-summary.ts <before.heapsnapshot> <after.heapsnapshot> [per=50] [top=40]
// Sums the self size of every heap node by type and constructor name in two V8 heap snapshots (e.g. the ones
// `BENCH_SFU_HEAPSNAPSHOT=<dir>` makes bench/sfu/run.ts take with the publisher alone and with N viewers) and
// prints the growth, divided by `per` (the viewers added) to read it per viewer. Also prints the external memory
// held by ArrayBuffers/Buffers (their backing stores are outside the JS heap).
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

function summarize(file: string): { totals: Map<string, { size: number; count: number }>; heap: number } {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const totals = new Map<string, { size: number; count: number }>();
  let heap = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]!]!;
    let name = s.strings[s.nodes[i + nameAt]!]!;
    const size = s.nodes[i + sizeAt]!;
    heap += size;
    // Strings, code and arrays are named by content: group them by type only.
    if (type !== 'object' && type !== 'native' && type !== 'closure') name = '';
    if (type === 'closure') name = `${name}()`;
    if (name.length > 60) name = `${name.slice(0, 57)}...`;
    const key = `${type}:${name}`;
    const t = totals.get(key) ?? { size: 0, count: 0 };
    t.size += size;
    t.count++;
    totals.set(key, t);
  }
  return { totals, heap };
}

const [beforeFile, afterFile, perArg, topArg] = process.argv.slice(2);
if (!beforeFile || !afterFile) {
  console.error('usage: heap-summary.ts <before.heapsnapshot> <after.heapsnapshot> [per] [top]');
  process.exit(2);
}
const per = Number(perArg ?? 50);
const top = Number(topArg ?? 40);
const a = summarize(beforeFile);
const b = summarize(afterFile);
const keys = new Set([...a.totals.keys(), ...b.totals.keys()]);
const rows = [...keys].map((k) => {
  const x = a.totals.get(k) ?? { size: 0, count: 0 };
  const y = b.totals.get(k) ?? { size: 0, count: 0 };
  return { k, size: y.size - x.size, count: y.count - x.count };
});
rows.sort((p, q) => q.size - p.size);
console.log(`heap (sum of self sizes): ${(a.heap / 1024).toFixed(0)} KiB → ${(b.heap / 1024).toFixed(0)} KiB`);
console.log(`growth per viewer: ${((b.heap - a.heap) / per / 1024).toFixed(1)} KiB (÷ ${per})\n`);
console.log('| type:constructor | bytes per viewer | objects per viewer |');
console.log('|---|---:|---:|');
for (const r of rows.slice(0, top)) {
  console.log(`| ${r.k} | ${(r.size / per).toFixed(0)} | ${(r.count / per).toFixed(1)} |`);
}
