#!/usr/bin/env node
// `npm run dev`: the control plane (restarted on change, straight from the TypeScript sources) and
// the Vite dev server of the web app (which proxies /api, /.well-known and /socket.io to it).
// Ctrl-C (or SIGTERM) stops both; if either one exits, the other is stopped too.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);

for (const tool of ['tsx', 'vite']) {
  if (!existsSync(bin(tool))) {
    console.error(`dev: ${bin(tool)} is missing; run npm install first`);
    process.exit(1);
  }
}

/** How long a child gets to stop after SIGTERM before it is killed. */
const STOP_GRACE_MS = 5000;

const children = [
  {
    name: 'server',
    command: bin('tsx'),
    args: ['watch', '--conditions=source', 'apps/server/src/bin.ts'],
    cwd: root,
  },
  {
    name: 'web',
    command: bin('vite'),
    args: [],
    cwd: join(root, 'apps', 'web'),
  },
].map((spec) => {
  // Each child leads its own process group, so a signal reaches it (and what it spawned) exactly once.
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    // No stdin: a child in a background process group that reads the terminal would be stopped (SIGTTIN).
    stdio: ['ignore', 'inherit', 'inherit'],
    detached: true,
    env: process.env,
  });
  return { ...spec, child, exited: false };
});

// Both follow PORT: the server listens on it, and Vite (apps/web/vite.config.ts) forwards the API to it.
const serverPort = process.env.PORT || '8080';
console.log(`dev: open http://127.0.0.1:5173 (Vite, hot reload); it forwards the API to the server on :${serverPort}`);

let stopping = false;
let exitCode = 0;

function signalGroup(entry, signal) {
  if (entry.exited || entry.child.pid === undefined) return;
  try {
    process.kill(-entry.child.pid, signal);
  } catch {
    // Already gone.
  }
}

function stopAll(signal) {
  if (stopping) return;
  stopping = true;
  for (const entry of children) signalGroup(entry, signal);
  const timer = setTimeout(() => {
    for (const entry of children) signalGroup(entry, 'SIGKILL');
  }, STOP_GRACE_MS);
  timer.unref();
}

for (const entry of children) {
  entry.child.on('error', (err) => {
    console.error(`dev: could not start ${entry.name}: ${err.message}`);
    entry.exited = true;
    exitCode = 1;
    stopAll('SIGTERM');
  });
  entry.child.on('exit', (code, signal) => {
    entry.exited = true;
    if (!stopping) {
      console.error(`dev: ${entry.name} exited (${signal ?? code}); stopping the rest`);
      exitCode = code ?? 1;
      stopAll('SIGTERM');
    }
    if (children.every((c) => c.exited)) process.exit(exitCode);
  });
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (stopping) {
      // A second Ctrl-C: do not wait any longer.
      for (const entry of children) signalGroup(entry, 'SIGKILL');
      return;
    }
    stopAll(signal === 'SIGHUP' ? 'SIGTERM' : signal);
  });
}
