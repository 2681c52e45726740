import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createWriteStream, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ownChild } from './child-process.js';

export interface Coturn {
  /** Temporary directory (its database and pid file); removed by stop(). */
  dir: string;
  port: number;
  /** The turns: port, when started with TLS. */
  tlsPort: number | undefined;
  secret: string;
  realm: string;
  /** turn: over UDP and TCP, and turns: when started with TLS. */
  urls: string[];
  child: ChildProcess;
  stop(): Promise<void>;
}

export interface CoturnOptions {
  /** Where coturn's log goes (default: discarded). */
  logFile?: string;
  realm?: string;
  /** Also listen for turns: (TLS) with this certificate and key. */
  tls?: { certFile: string; keyFile: string };
  /**
   * coturn's external-ip (`PUBLIC/PRIVATE`): the relayed address it hands out. An address where
   * nothing listens makes the relay ports look closed, as a firewall or a NAT without port
   * forwarding does.
   */
  externalIp?: string;
  /** The address coturn listens and relays on (default 127.0.0.1; the network suite uses its lab's uplink). */
  ip?: string;
}

/** A free UDP port on the address whose TCP twin is free too (coturn listens on both). */
async function freePort(ip: string): Promise<number> {
  for (;;) {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, ip, resolve));
    const { port } = socket.address();
    const tcp = createServer();
    const free = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, ip, () => resolve(true));
    });
    await new Promise<void>((resolve) => (free ? tcp.close(() => resolve()) : resolve()));
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (free) return port;
  }
}

/** Whether a STUN Binding request to the port is answered (coturn is up). */
async function answersStun(ip: string, port: number): Promise<boolean> {
  const socket = createSocket('udp4');
  try {
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request
    request.writeUInt32BE(0x2112a442, 4); // magic cookie
    randomBytes(12).copy(request, 8);
    return await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.once('message', () => {
        clearTimeout(timer);
        resolve(true);
      });
      socket.send(request, port, ip);
    });
  } finally {
    socket.close();
  }
}

/**
 * Start Debian's coturn on 127.0.0.1 with a generated secret (REST API credentials, like
 * production) on free ports. Loopback peers are allowed here only: every peer in the tests is on
 * 127.0.0.1, which deploy/coturn/turnserver.conf denies.
 */
export async function startCoturn(o: CoturnOptions = {}): Promise<Coturn> {
  const dir = mkdtempSync(join(tmpdir(), 'ff-coturn-'));
  const ip = o.ip ?? '127.0.0.1';
  const port = await freePort(ip);
  const tlsPort = o.tls ? await freePort(ip) : undefined;
  const secret = randomBytes(24).toString('base64url');
  const realm = o.realm ?? 'fusionflow.test';
  const child = spawn(
    'turnserver',
    [
      '-n',
      `--listening-ip=${ip}`,
      `--relay-ip=${ip}`,
      `--listening-port=${port}`,
      `--realm=${realm}`,
      '--use-auth-secret',
      `--static-auth-secret=${secret}`,
      ...(o.tls
        ? [
            `--tls-listening-port=${tlsPort}`,
            `--cert=${o.tls.certFile}`,
            `--pkey=${o.tls.keyFile}`,
            '--no-tlsv1',
            '--no-tlsv1_1',
          ]
        : ['--no-tls']),
      ...(o.externalIp ? [`--external-ip=${o.externalIp}`] : []),
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
    { stdio: ['ignore', o.logFile ? 'pipe' : 'ignore', o.logFile ? 'pipe' : 'ignore'] },
  );
  if (o.logFile) {
    const log = createWriteStream(o.logFile);
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
  }
  const stop = ownChild(child, { dir });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  for (let i = 0; i < 100; i++) {
    const failed = await Promise.race([spawnError, sleep(100).then(() => undefined)]);
    if (failed) throw new Error(`could not start turnserver (apt-get install coturn): ${failed.message}`);
    if (child.exitCode !== null)
      throw new Error(`turnserver exited (${child.exitCode})${o.logFile ? `; see ${o.logFile}` : ''}`);
    if (await answersStun(ip, port)) {
      return {
        dir,
        port,
        tlsPort,
        secret,
        realm,
        urls: [
          `turn:${ip}:${port}?transport=udp`,
          `turn:${ip}:${port}?transport=tcp`,
          ...(tlsPort ? [`turns:localhost:${tlsPort}?transport=tcp`] : []),
        ],
        child,
        stop,
      };
    }
  }
  await stop();
  throw new Error(`turnserver did not answer on ${ip}:${port}`);
}
