import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';

/** s3rver's fixed credentials: it checks every request's SigV4 signature against them. */
export const S3RVER_KEY = 'S3RVER';

export interface TestS3Server {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  bucket: string;
  /** Where s3rver keeps the bucket (removed by stop()). */
  dir: string;
  /** Every request s3rver received, as `METHOD /path?query` (signature query parameters dropped). */
  requests: string[];
  /** Stop answering (connections refused) without losing what is stored. */
  pause(): Promise<void>;
  /** Listen again on the same port with the same data. */
  resume(): Promise<void>;
  /** Stop and remove the directory. Idempotent. */
  stop(): Promise<void>;
}

/** The object-store settings (endpoint, bucket, credentials, path-style) that reach a test server. */
export function s3rverStoreConfig(s3: TestS3Server) {
  return {
    endpoint: s3.endpoint,
    bucket: s3.bucket,
    accessKeyId: S3RVER_KEY,
    secretAccessKey: S3RVER_KEY,
    region: 'us-east-1',
    forcePathStyle: true,
  };
}

/**
 * A real S3 API (s3rver from npm, SigV4 checked, multipart, Range, presigned URLs) on 127.0.0.1 with
 * a random port, its data in a fresh temp directory, one bucket made. Tests stop it in afterAll.
 */
export async function startS3Server(bucket = 'recordings-test'): Promise<TestS3Server> {
  const dir = mkdtempSync(join(tmpdir(), 'ff-s3rver-'));
  let port = 0;
  let running: { s3: S3rver; server: Server } | undefined;
  const requests: string[] = [];
  const start = async () => {
    const s3 = new S3rver({
      address: '127.0.0.1',
      port,
      silent: true,
      directory: dir,
      configureBuckets: [{ name: bucket, configs: [] }],
    });
    const address = await s3.run();
    port = address.port;
    const server = (s3 as unknown as { httpServer: Server }).httpServer;
    server.prependListener('request', (req) => {
      const url = new URL(req.url ?? '/', 'http://s3');
      for (const name of [...url.searchParams.keys()]) if (/^x-amz-|^x-id$/i.test(name)) url.searchParams.delete(name);
      requests.push(`${req.method} ${url.pathname}${url.search}`);
    });
    running = { s3, server };
  };
  const pause = async () => {
    if (!running) return;
    const { server } = running;
    running = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
  };
  try {
    await start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let stopped = false;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    bucket,
    dir,
    requests,
    pause,
    resume: async () => {
      if (!running && !stopped) await start();
    },
    stop: async () => {
      stopped = true;
      await pause();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface DroppingProxy {
  endpoint: string;
  /** Connections cut so far. */
  readonly dropped: number;
  /** Connections passed through so far. */
  readonly passed: number;
  /** Cut the next `n` connections as soon as they are accepted. */
  dropNext(n: number): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of a server that cuts the connections it is told to (the client sees a
 * reset: a real network failure, not a mocked client), and passes the others through.
 */
export async function startDroppingProxy(target: { port: number }): Promise<DroppingProxy> {
  let toDrop = 0;
  let dropped = 0;
  let passed = 0;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const server = createTcpServer((client) => {
    track(client);
    if (toDrop > 0) {
      toDrop -= 1;
      dropped += 1;
      client.resetAndDestroy();
      return;
    }
    passed += 1;
    const upstream = connect({ host: '127.0.0.1', port: target.port });
    track(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get dropped() {
      return dropped;
    },
    get passed() {
      return passed;
    },
    dropNext: (n) => {
      toDrop += n;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
}
