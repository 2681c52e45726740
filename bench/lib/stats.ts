import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Percentile of a list of numbers (nearest-rank). */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** CPU time (user + system) a process has used so far, in microseconds, from /proc. */
export function processCpuMicros(pid: number): number {
  const { readFileSync } = require('node:fs') as typeof import('node:fs');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return (ticks * 1_000_000) / clockTicksPerSecond();
}

/** CPU time of every process whose command line matches, summed (e.g. all PostgreSQL backends). */
export function processesCpuMicros(match: RegExp): number {
  const { readdirSync, readFileSync } = require('node:fs') as typeof import('node:fs');
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (match.test(cmd)) total += processCpuMicros(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

let hz: number | undefined;
function clockTicksPerSecond(): number {
  if (hz === undefined) {
    const { execSync } = require('node:child_process') as typeof import('node:child_process');
    hz = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;
  }
  return hz;
}
