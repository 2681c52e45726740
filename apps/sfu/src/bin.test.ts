import { describe, expect, it } from 'vitest';
import { spawnSfuProcess } from './test-sfu-process.js';

/** The SFU process: SIGUSR2 drains it, and a drained node with no session exits as on SIGTERM (code 0). */
describe('the SFU process', () => {
  it('drains on SIGUSR2 and exits once it holds no session', async () => {
    const { child, output, exited } = spawnSfuProcess({ SFU_PORT: '0', LOG_LEVEL: 'info', ICE_ADDRESSES: '127.0.0.1' });
    try {
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          if (output().includes('SFU is running')) resolve();
        };
        child.stdout.on('data', check);
        child.on('exit', () => reject(new Error(`the SFU exited before it ran:\n${output()}`)));
      });
      child.kill('SIGUSR2');
      expect(await exited).toBe(0);
      expect(output()).toContain('"end":"empty"');
      expect(output()).toContain('drained');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 60_000);
});
