import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ownChild } from './child-process.js';

/** The gateway configuration FusionFlow ships. */
export const NGINX_CONF = fileURLToPath(new URL('../../deploy/nginx/fusionflow.conf', import.meta.url));

export interface NginxOptions {
  /** Control-plane base URLs (http://127.0.0.1:PORT) for the upstream. */
  upstreams: string[];
  certFile: string;
  keyFile: string;
  /** HTTPS port (0: a free one). */
  port?: number;
}

export interface Nginx {
  /** https://localhost:PORT */
  url: string;
  port: number;
  /** http://localhost:PORT of the plain-HTTP server (redirects to HTTPS). */
  httpUrl: string;
  dir: string;
  /** The master process. */
  pid: number;
  accessLog(): string;
  errorLog(): string;
  stop(): Promise<void>;
}

export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * deploy/nginx/fusionflow.conf with only what a test machine must change: listen addresses and
 * ports, certificate paths, the upstream's servers, the cache and ACME directories. Each of these
 * lines must be found exactly once, so the test notices when the shipped file changes shape.
 */
export function renderNginxConfig(
  o: Required<Pick<NginxOptions, 'upstreams' | 'certFile' | 'keyFile'>> & {
    port: number;
    httpPort: number;
    dir: string;
  },
): string {
  let text = readFileSync(NGINX_CONF, 'utf8');
  const swap = (from: string, to: string) => {
    const count = text.split(from).length - 1;
    if (count !== 1) throw new Error(`deploy/nginx/fusionflow.conf: expected "${from}" once, found ${count} times`);
    text = text.replace(from, to);
  };
  swap('server 127.0.0.1:8080;', o.upstreams.map((u) => `server ${new URL(u).host};`).join('\n    '));
  swap('listen 80;', `listen 127.0.0.1:${o.httpPort};`);
  swap('listen [::]:80;', '');
  swap('listen 443 ssl http2;', `listen 127.0.0.1:${o.port} ssl http2;`);
  swap('listen [::]:443 ssl http2;', '');
  swap('/etc/letsencrypt/live/live.example.com/fullchain.pem', o.certFile);
  swap('/etc/letsencrypt/live/live.example.com/privkey.pem', o.keyFile);
  swap('/var/cache/nginx/fusionflow', join(o.dir, 'cache'));
  swap('root /var/www/letsencrypt;', `root ${join(o.dir, 'acme')};`);
  return text;
}

/** The main nginx.conf around the site file: everything in the test's directory, in the foreground. */
function mainConfig(dir: string): string {
  const asRoot = process.getuid?.() === 0;
  return `${asRoot ? 'user root;\n' : ''}daemon off;
master_process on;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} info;
events { worker_connections 512; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  log_format timed '$remote_addr "$request" $status $body_bytes_sent "$http_upgrade" $request_time';
  access_log ${join(dir, 'access.log')} timed;
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  include ${join(dir, 'fusionflow.conf')};
}
`;
}

/** Debian's nginx with the shipped site configuration on 127.0.0.1; `stop()` ends it and removes its files. */
export async function startNginx(o: NginxOptions): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'ff-nginx-'));
  for (const sub of ['cache', 'acme']) mkdirSync(join(dir, sub));
  const port = o.port || (await freeTcpPort());
  const httpPort = await freeTcpPort();
  writeFileSync(
    join(dir, 'fusionflow.conf'),
    renderNginxConfig({ upstreams: o.upstreams, certFile: o.certFile, keyFile: o.keyFile, port, httpPort, dir }),
  );
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, mainConfig(dir));
  const args = ['-c', conf, '-p', dir, '-e', join(dir, 'error.log')];
  try {
    execFileSync('nginx', [...args, '-t', '-q'], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer };
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx -t refused the configuration: ${e.stderr?.toString() ?? String(err)}`);
  }
  const child: ChildProcess = spawn('nginx', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  // SIGQUIT: nginx's graceful stop (workers finish their requests).
  const stop = ownChild(child, { dir, signal: 'SIGQUIT' });
  const read = (file: string) => {
    try {
      return readFileSync(join(dir, file), 'utf8');
    } catch {
      return '';
    }
  };
  // Ready once the port accepts connections.
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`nginx exited (${child.exitCode}): ${stderr}${read('error.log')}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) {
      return {
        url: `https://localhost:${port}`,
        port,
        httpUrl: `http://localhost:${httpPort}`,
        dir,
        pid: child.pid!,
        accessLog: () => read('access.log'),
        errorLog: () => read('error.log'),
        stop,
      };
    }
    await sleep(50);
  }
  await stop();
  throw new Error('nginx did not start listening');
}
