import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import globalTeardown from './global-teardown.js';
import { E2E_ENV } from './server-env.js';

/** Stop nginx (gracefully, then by force), remove its files and the certificates, then the platform. */
export default async function gatewayTeardown(): Promise<void> {
  const pid = Number(process.env[E2E_ENV.nginxPid]);
  delete process.env[E2E_ENV.nginxPid];
  if (pid > 0) {
    try {
      process.kill(pid, 'SIGQUIT');
      for (let i = 0; i < 100; i++) {
        process.kill(pid, 0);
        await sleep(50);
      }
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const dir of [process.env[E2E_ENV.nginxDir], process.env[E2E_ENV.certsDir]]) {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  await globalTeardown();
}
