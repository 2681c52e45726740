import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Stop for a child a test started: killed with the test process if it dies first; `stop()` asks
 * it to end (`signal`), forces it after `graceMs`, and removes its directory. Idempotent.
 */
export function ownChild(
  child: ChildProcess,
  o: { dir: string; signal?: NodeJS.Signals; graceMs?: number },
): () => Promise<void> {
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  return async () => {
    process.off('exit', kill);
    if (running()) {
      child.kill(o.signal ?? 'SIGTERM');
      await Promise.race([exited, sleep(o.graceMs ?? 5000)]);
      if (running()) child.kill('SIGKILL');
    }
    rmSync(o.dir, { recursive: true, force: true });
  };
}
