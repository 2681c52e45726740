import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ownChild } from './child-process.js';
import { freeTcpPort } from './nginx.js';

export interface Prometheus {
  url: string;
  /** GET an /api/v1 endpoint; resolves to its `data`. */
  api<T = any>(path: string): Promise<T>;
  output(): string;
  stop(): Promise<void>;
}

/** Debian's prometheus with this configuration (written to a temporary directory with its storage). */
export async function startPrometheus(config: string, files: Record<string, string> = {}): Promise<Prometheus> {
  const dir = mkdtempSync(join(tmpdir(), 'ff-prometheus-'));
  writeFileSync(join(dir, 'prometheus.yml'), config);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const port = await freeTcpPort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const stop = ownChild(child, { dir, graceMs: 10_000 });
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited (${child.exitCode}): ${output}`);
    }
    const ready = await fetch(`${url}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) {
      return {
        url,
        api: async (path) => {
          const body = (await (await fetch(`${url}/api/v1/${path}`)).json()) as { status: string; data: unknown };
          if (body.status !== 'success') throw new Error(`prometheus ${path}: ${JSON.stringify(body)}`);
          return body.data as never;
        },
        output: () => output,
        stop,
      };
    }
    await sleep(100);
  }
  await stop();
  throw new Error(`prometheus did not become ready: ${output}`);
}
