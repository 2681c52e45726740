import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Coturn {
  /** Temporary directory (its database and pid file); removed by stop() or the teardown. */
  dir: string;
  port: number;
  secret: string;
  realm: string;
  urls: string[];
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A free UDP port on 127.0.0.1 (coturn listens on the same number for TCP). */
async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** Whether a STUN Binding request to the port is answered (coturn is up). */
async function answersStun(port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  try {
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request
    request.writeUInt16BE(0, 2);
    request.writeUInt32BE(0x2112a442, 4); // magic cookie
    randomBytes(12).copy(request, 8);
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.once('message', () => {
        clearTimeout(timer);
        resolve(true);
      });
      socket.send(request, port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

/**
 * Start Debian's coturn on 127.0.0.1 with a generated secret (REST API credentials, like
 * production) on a free port. Loopback peers are allowed here only: every browser in the tests is
 * on 127.0.0.1, which deploy/coturn/turnserver.conf denies.
 */
export async function startCoturn(logFile: string): Promise<Coturn> {
  const dir = mkdtempSync(join(tmpdir(), 'ff-coturn-'));
  const port = await freeUdpPort();
  const secret = randomBytes(24).toString('base64url');
  const realm = 'fusionflow.test';
  const log = createWriteStream(logFile);
  const child = spawn(
    'turnserver',
    [
      '-n',
      '--listening-ip=127.0.0.1',
      '--relay-ip=127.0.0.1',
      `--listening-port=${port}`,
      `--realm=${realm}`,
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      '--no-tls',
      '--no-dtls',
      '--no-cli',
      '--fingerprint',
      '--no-multicast-peers',
      '--allow-loopback-peers',
      '--log-file=stdout',
      '--simple-log',
      `--userdb=${join(dir, 'turndb')}`,
      `--pidfile=${join(dir, 'turnserver.pid')}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  process.once('exit', () => child.kill('SIGKILL'));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  for (let i = 0; i < 100; i++) {
    const failed = await Promise.race([spawnError, sleep(100).then(() => undefined)]);
    if (failed) throw new Error(`could not start turnserver (apt-get install coturn): ${failed.message}`);
    if (child.exitCode !== null) throw new Error(`turnserver exited (${child.exitCode}); see ${logFile}`);
    if (await answersStun(port)) {
      return {
        dir,
        port,
        secret,
        realm,
        urls: [`turn:127.0.0.1:${port}?transport=udp`, `turn:127.0.0.1:${port}?transport=tcp`],
        child,
        stop,
      };
    }
  }
  await stop();
  throw new Error(`turnserver did not answer on 127.0.0.1:${port}; see ${logFile}`);
}
