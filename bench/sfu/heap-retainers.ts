// npx tsx bench/sfu/heap-retainers.ts <file.heapsnapshot> <type:name> [depth=4] [baseline.heapsnapshot]
// Groups the nodes of one type:constructor (or every node of a type: "array:") by their retainer chain (depth links up) and sums their self sizes;
// with a baseline, prints the growth from it.
import { readFileSync } from 'node:fs';

const [file, what, depthArg] = process.argv.slice(2);
const depth = Number(depthArg ?? 4);
function group(f: string): Map<string, { size: number; count: number }> {
  const s = JSON.parse(readFileSync(f, 'utf8'));
  const nf: string[] = s.snapshot.meta.node_fields;
  const ef: string[] = s.snapshot.meta.edge_fields;
  const ntypes: string[] = s.snapshot.meta.node_types[0];
  const etypes: string[] = s.snapshot.meta.edge_types[0];
  const W = nf.length;
  const EW = ef.length;
  const nodes: number[] = s.nodes;
  const edges: number[] = s.edges;
  const strings: string[] = s.strings;
  const count = nodes.length / W;
  const T = nf.indexOf('type'),
    N = nf.indexOf('name'),
    S = nf.indexOf('self_size'),
    EC = nf.indexOf('edge_count');
  const ET = ef.indexOf('type'),
    EN = ef.indexOf('name_or_index'),
    ETO = ef.indexOf('to_node');
  const parent: number[][] = Array.from({ length: count }, () => []);
  const parentEdge: string[][] = Array.from({ length: count }, () => []);
  let e = 0;
  for (let i = 0; i < count; i++) {
    const ec = nodes[i * W + EC]!;
    for (let j = 0; j < ec; j++, e += EW) {
      const et = etypes[edges[e + ET]!]!;
      if (et === 'weak' || et === 'shortcut') continue;
      const to = edges[e + ETO]! / W;
      const name = et === 'element' || et === 'hidden' ? `[${edges[e + EN]}]` : strings[edges[e + EN]!]!;
      parent[to]!.push(i);
      parentEdge[to]!.push(name);
    }
  }
  const label = (i: number) => {
    const t = ntypes[nodes[i * W + T]!]!;
    const n = strings[nodes[i * W + N]!]!;
    return `${t}:${n.slice(0, 40)}`;
  };
  const groups = new Map<string, { size: number; count: number }>();
  for (let i = 0; i < count; i++) {
    if (what!.endsWith(':') ? !label(i).startsWith(what!) : label(i) !== what) continue;
    const chain: string[] = [];
    let cur = i;
    for (let d = 0; d < depth; d++) {
      const ps = parent[cur]!;
      if (ps.length === 0) break;
      // Prefer a non-system parent.
      let k = ps.findIndex((p) => !label(p).includes('system /'));
      if (k < 0) k = 0;
      chain.push(`${parentEdge[cur]![k]}<-${label(ps[k]!)}`);
      cur = ps[k]!;
    }
    const key = chain.join(' ');
    const g = groups.get(key) ?? { size: 0, count: 0 };
    g.size += nodes[i * W + S]!;
    g.count++;
    groups.set(key, g);
  }
  return groups;
}
const after = group(file!);
const base = process.argv[5] ? group(process.argv[5]) : new Map<string, { size: number; count: number }>();
const rows = [...new Set([...after.keys(), ...base.keys()])].map((k) => {
  const a = after.get(k) ?? { size: 0, count: 0 };
  const b = base.get(k) ?? { size: 0, count: 0 };
  return [k, { size: a.size - b.size, count: a.count - b.count }] as const;
});
for (const [k, g] of rows.sort((a, b) => b[1].size - a[1].size).slice(0, 25)) {
  console.log(`${String(g.size).padStart(9)} ${String(g.count).padStart(5)}  ${k}`);
}
