import { spawnSync } from 'node:child_process';

export interface Tool {
  /** Whether the binary is on PATH (or at the given path). */
  readonly available: boolean;
  /** Absolute path of the binary when available. */
  readonly path: string;
  /** The message a skipped test shows: which Debian package to install. */
  readonly skipReason: string;
}

/**
 * An optional external tool a test needs. Missing, the test skips with a message naming the Debian
 * package, unless `FF_REQUIRE_<NAME>=1` (CI), which makes a missing tool a failure at load time.
 */
export function externalTool(binary: string, debianPackage: string, requireVariable: string): Tool {
  const found = spawnSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' });
  const path = found.status === 0 ? found.stdout.trim() : '';
  const skipReason = `${binary} is not installed (apt-get install ${debianPackage})`;
  if (!path && process.env[requireVariable] === '1') {
    throw new Error(`${requireVariable}=1 but ${skipReason}`);
  }
  if (!path) console.warn(`skipping what needs it: ${skipReason}`);
  return { available: path !== '', path, skipReason };
}

export const tools = {
  coturn: () => externalTool('turnserver', 'coturn', 'FF_REQUIRE_COTURN'),
  nginx: () => externalTool('nginx', 'nginx', 'FF_REQUIRE_NGINX'),
  prometheus: () => externalTool('prometheus', 'prometheus', 'FF_REQUIRE_PROMETHEUS'),
  promtool: () => externalTool('promtool', 'prometheus', 'FF_REQUIRE_PROMETHEUS'),
  openssl: () => externalTool('openssl', 'openssl', 'FF_REQUIRE_OPENSSL'),
  pgDump: () => externalTool('pg_dump', 'postgresql-client', 'FF_REQUIRE_PG_DUMP'),
  pgRestore: () => externalTool('pg_restore', 'postgresql-client', 'FF_REQUIRE_PG_DUMP'),
  ffprobe: () => externalTool('ffprobe', 'ffmpeg', 'FF_REQUIRE_FFMPEG'),
  systemdAnalyze: () => externalTool('systemd-analyze', 'systemd', 'FF_REQUIRE_SYSTEMD_ANALYZE'),
};
