import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('./bin.ts', import.meta.url));

/** The SFU process: SIGUSR2 drains it, and a drained node with no session exits as on SIGTERM (code 0). */
describe('the SFU process', () => {
  it('drains on SIGUSR2 and exits once it holds no session', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', bin], {
      env: { PATH: process.env.PATH, SFU_PORT: '0', LOG_LEVEL: 'info', ICE_ADDRESSES: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      out += chunk;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (out.includes('SFU is running')) resolve();
        };
        child.stdout.on('data', check);
        child.on('exit', () => reject(new Error(`the SFU exited before it ran:\n${out}`)));
      });
      child.kill('SIGUSR2');
      expect(await exited).toBe(0);
      expect(out).toContain('"end":"empty"');
      expect(out).toContain('drained');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
