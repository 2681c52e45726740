#!/usr/bin/env node
// `npm start`: build only what is missing or older than its sources (the packages and apps with
// `tsc -b`, the web app with Vite), then run the control plane (which starts the SFU) in this process.
// A restart with nothing changed starts at once; `npm run build` still rebuilds everything.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const at = (...parts) => join(root, ...parts);

/** Newest modification time (ms) of a file or of every file under a directory (0 when absent). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    latest = Math.max(latest, newest(join(path, entry)));
  }
  return latest;
}

const oldest = (paths) => Math.min(...paths.map((p) => (existsSync(p) ? statSync(p).mtimeMs : 0)));

const projects = ['packages/protocol', 'packages/kit', 'packages/client', 'apps/sfu', 'apps/server'];
const steps = [
  {
    name: 'packages and apps (tsc -b)',
    inputs: [
      at('tsconfig.json'),
      at('tsconfig.base.json'),
      ...projects.flatMap((p) => [at(p, 'src'), at(p, 'tsconfig.json')]),
    ],
    outputs: projects.map((p) => at(p, 'dist', '.tsbuildinfo')),
    command: [at('node_modules', '.bin', 'tsc'), ['-b']],
  },
  {
    name: 'web app (vite build)',
    inputs: [
      at('apps/web/src'),
      at('apps/web/index.html'),
      at('apps/web/vite.config.ts'),
      at('apps/web/public'),
      at('packages/protocol/src'),
      at('packages/client/src'),
    ],
    outputs: [at('apps/web/dist', 'index.html')],
    command: [at('node_modules', '.bin', 'vite'), ['build'], at('apps/web')],
  },
];

for (const step of steps) {
  const builtAt = oldest(step.outputs);
  const changedAt = Math.max(...step.inputs.map(newest));
  if (builtAt > 0 && builtAt >= changedAt) continue;
  console.log(`start: building the ${step.name}…`);
  const [command, args, cwd = root] = step.command;
  const run = spawnSync(command, args, { cwd, stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`start: building the ${step.name} failed`);
    process.exit(run.status ?? 1);
  }
  // tsc -b leaves its build info alone when nothing it emits changed: mark the step done anyway.
  const now = new Date();
  for (const output of step.outputs) if (existsSync(output)) utimesSync(output, now, now);
}

await import(pathToFileURL(at('apps/server/dist/bin.js')).href);
