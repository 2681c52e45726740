// npx tsx --conditions=source bench/sfu/memory-probe.ts — not a benchmark: the SFU in this process (createSfu), one
// werift publisher, PROBE_N (10) werift viewers in a child (bench/sfu/subscribers.ts); one round of N first, then
// process.memoryUsage() and a heap snapshot (PROBE_DIR, /tmp/mem-probe) with 0 and with N viewers, for
// bench/sfu/heap-summary.ts and heap-retainers.ts. Light enough for a quick look; the numbers to quote come from run.ts.
import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { startTestSfu, TestPublisher } from '../../apps/sfu/src/test-peers.js';

const here = dirname(fileURLToPath(import.meta.url));
const N = Number(process.env.PROBE_N ?? 10);
const dir = process.env.PROBE_DIR ?? '/tmp/mem-probe';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mem = (label: string) => {
  const m = process.memoryUsage();
  const k = (x: number) => (x / 1024).toFixed(0);
  const spaces = getHeapSpaceStatistics()
    .map((x) => `${x.space_name.replace('_space', '')} ${(x.space_size / 1024).toFixed(0)}`)
    .join(', ');
  console.log(`  spaces: ${spaces}`);
  console.log(
    `${label}: rss ${k(m.rss)} heapUsed ${k(m.heapUsed)} external ${k(m.external)} arrayBuffers ${k(m.arrayBuffers)} KiB`,
  );
};
const t = await startTestSfu({ maxSubscribersPerRoom: 10000, maxViewers: 0 } as never);
const pub = new TestPublisher();
await pub.publish(t.url, 'bench');
await pub.connected();
pub.start();
function clearPublisherCache() {
  for (const t of pub.pc.getTransceivers()) (t.sender as unknown as { rtpCache: unknown[] }).rtpCache = [];
}
const subs = fork(join(here, 'subscribers.ts'), [], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
await new Promise((r) => subs.once('message', r));
// One round of N viewers first: code compiled, caches full, pools grown.
subs.send({ type: 'connect', url: `${t.url}/api/whep/play/bench`, n: N });
await new Promise((r) => subs.once('message', r));
await sleep(3000);
subs.send({ type: 'close', base: t.url });
await new Promise((r) => subs.once('message', r));
await sleep(3000);
// The publisher's own werift send cache (this process only, not the SFU's) would blur the picture.
clearPublisherCache();
mem('N=0');
console.log(writeHeapSnapshot(join(dir, 'n0.heapsnapshot')));
mem('N=0 after snapshot');
subs.send({ type: 'connect', url: `${t.url}/api/whep/play/bench`, n: N });
await new Promise((r) => subs.once('message', r));
await sleep(3000);
clearPublisherCache();
mem(`N=${N}`);
console.log(writeHeapSnapshot(join(dir, `n${N}.heapsnapshot`)));
mem(`N=${N} after snapshot`);
subs.kill();
await t.close();
process.exit(0);
