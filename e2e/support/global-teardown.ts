import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopApertiumGroup } from './apertium.js';
import { E2E_ENV } from './server-env.js';

const STOP_TIMEOUT_MS = 10_000;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stop the server the global setup started (gracefully, then by force) and delete its data. */
export default async function globalTeardown(): Promise<void> {
  const pid = Number(process.env[E2E_ENV.serverPid]);
  const dataDir = process.env[E2E_ENV.dataDir];
  delete process.env[E2E_ENV.serverPid];
  if (pid > 0 && isRunning(pid)) {
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isRunning(pid) && Date.now() < deadline) await sleep(100);
    if (isRunning(pid)) {
      console.error(`e2e: the server did not stop within ${STOP_TIMEOUT_MS} ms; killing it`);
      process.kill(pid, 'SIGKILL');
    }
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  // coturn, started for the call scenarios.
  const turnPid = Number(process.env[E2E_ENV.turnPid]);
  delete process.env[E2E_ENV.turnPid];
  if (turnPid > 0 && isRunning(turnPid)) {
    process.kill(turnPid, 'SIGTERM');
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (isRunning(turnPid) && Date.now() < deadline) await sleep(100);
    if (isRunning(turnPid)) process.kill(turnPid, 'SIGKILL');
  }
  const turnDir = process.env[E2E_ENV.turnDir];
  if (turnDir) rmSync(turnDir, { recursive: true, force: true });
  // The SMTP server process and its mails.
  const mailPid = Number(process.env[E2E_ENV.mailPid]);
  delete process.env[E2E_ENV.mailPid];
  if (mailPid > 0 && isRunning(mailPid)) process.kill(mailPid, 'SIGTERM');
  const mailDir = process.env[E2E_ENV.mailDir];
  if (mailDir) rmSync(mailDir, { recursive: true, force: true });
  // Apertium APy, started for the chat scenario: its whole process group (APy and its pipelines).
  const apertiumPid = Number(process.env[E2E_ENV.apertiumPid]);
  delete process.env[E2E_ENV.apertiumPid];
  await stopApertiumGroup(apertiumPid, STOP_TIMEOUT_MS);
}
