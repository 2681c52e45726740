import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH } from '../../support/chromium.js';

/**
 * The network lab: Linux network namespaces with a router between the people and the platform.
 *
 *     ffn-a (10.90.N.2) ──┐                      ┌── root namespace: control plane, SFU, coturn
 *                         ├── ffn-r (router) ────┤   on the uplink address 10.90.0.2
 *     ffn-b (10.90.M.2) ──┘   10.90.*.1          └── (the test runner reaches it there too)
 *
 * Each person's browser runs in their own namespace (Chromium started through `ip netns exec`), on
 * network N (10.90.N.0/24, the router at .1). Impairments live in the router: iptables drops UDP of one
 * network or a share of every packet, and delay-queue.py (NFQUEUE) delays what the router forwards, for
 * kernels without netem. Names are fixed, so any process of the run (setup, tests, teardown) acts on the
 * same lab, and a crashed run's leftovers are removed by the next one.
 */

export type Person = 'a' | 'b';
export const PEOPLE: readonly Person[] = ['a', 'b'];
/** The platform's address: the root namespace's end of the uplink. */
export const PLATFORM_IP = '10.90.0.2';
/** The network each person starts on. */
export const HOME_NETWORK: Record<Person, number> = { a: 1, b: 2 };

const ROUTER = 'ffn-r';
const UPLINK = 'ffn-up';
const DELAY_QUEUE = 7;
const delayScript = fileURLToPath(new URL('./delay-queue.py', import.meta.url));

const namespaceOf = (person: Person) => `ffn-${person}`;
const networkPrefix = (network: number) => `10.90.${network}`;

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function inRouter(command: string, ...args: string[]): string {
  return run('ip', ['netns', 'exec', ROUTER, command, ...args]);
}

function has(command: string): boolean {
  try {
    run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why the lab cannot run here (null when it can): it needs root, iproute2 (`ip netns`, veth), iptables
 * (with the statistic match and NFQUEUE) and python3.
 */
export function labUnavailable(): string | null {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'the network lab needs root (ip netns, iptables)';
  const missing = [
    ['ip', 'iproute2'],
    ['iptables', 'iptables'],
    ['python3', 'python3'],
  ]
    .filter(([command]) => !has(command!))
    .map(([, pkg]) => pkg);
  if (missing.length > 0) return `missing Debian packages: ${missing.join(' ')} (apt-get install ${missing.join(' ')})`;
  try {
    run('ip', ['netns', 'add', 'ffn-probe']);
    run('ip', ['netns', 'del', 'ffn-probe']);
  } catch (err) {
    return `this kernel does not allow network namespaces: ${(err as Error).message}`;
  }
  return null;
}

/** The lab's router-side interface name for a person on a network. */
const routerSide = (person: Person, network: number) => `ffn-${person}${network}`;

/** Remove everything a lab (this run's or a crashed one's) left behind. */
export function destroyLab(): void {
  stopDelay();
  for (const ns of [ROUTER, ...PEOPLE.map(namespaceOf)]) {
    try {
      run('ip', ['netns', 'del', ns]);
    } catch {
      // not there
    }
  }
  try {
    run('ip', ['link', 'del', UPLINK]);
  } catch {
    // went with the router's namespace
  }
}

/** Build the lab: the router, the uplink to the platform, and both people on their home networks. */
export function createLab(): void {
  destroyLab();
  run('ip', ['netns', 'add', ROUTER]);
  run('ip', ['-n', ROUTER, 'link', 'set', 'lo', 'up']);
  run('ip', ['netns', 'exec', ROUTER, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  run('ip', ['link', 'add', UPLINK, 'type', 'veth', 'peer', 'name', 'up0', 'netns', ROUTER]);
  run('ip', ['addr', 'add', `${PLATFORM_IP}/24`, 'dev', UPLINK]);
  run('ip', ['link', 'set', UPLINK, 'up']);
  run('ip', ['-n', ROUTER, 'addr', 'add', '10.90.0.1/24', 'dev', 'up0']);
  run('ip', ['-n', ROUTER, 'link', 'set', 'up0', 'up']);
  run('ip', ['route', 'add', '10.90.0.0/16', 'via', '10.90.0.1', 'dev', UPLINK]);
  for (const person of PEOPLE) {
    run('ip', ['netns', 'add', namespaceOf(person)]);
    // IPv4 only: an interface's IPv6 link-local address finishing duplicate detection a second or two after it
    // is plugged in is an address change Chromium fails requests on (ERR_NETWORK_CHANGED), at a moment no
    // scenario chose. The lab's only network changes are the ones the scenarios make.
    for (const knob of ['all', 'default']) {
      run('ip', ['netns', 'exec', namespaceOf(person), 'sysctl', '-qw', `net.ipv6.conf.${knob}.disable_ipv6=1`]);
    }
    run('ip', ['-n', namespaceOf(person), 'link', 'set', 'lo', 'up']);
    connect(person, HOME_NETWORK[person]);
  }
}

/** Plug the person into network N (10.90.N.2, default route via the router's 10.90.N.1). */
export function connect(person: Person, network: number): void {
  const ns = namespaceOf(person);
  const outside = routerSide(person, network);
  run('ip', ['link', 'add', 'eth0', 'netns', ns, 'type', 'veth', 'peer', 'name', outside, 'netns', ROUTER]);
  run('ip', ['-n', ROUTER, 'addr', 'add', `${networkPrefix(network)}.1/24`, 'dev', outside]);
  run('ip', ['-n', ROUTER, 'link', 'set', outside, 'up']);
  run('ip', ['-n', ns, 'addr', 'add', `${networkPrefix(network)}.2/24`, 'dev', 'eth0']);
  run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  run('ip', ['-n', ns, 'route', 'add', 'default', 'via', `${networkPrefix(network)}.1`]);
}

/** Unplug the person: their interface and its address disappear (a phone leaving WiFi). */
export function disconnect(person: Person): void {
  try {
    run('ip', ['-n', namespaceOf(person), 'link', 'del', 'eth0']);
  } catch {
    // not plugged in
  }
}

/** The router forwards no UDP to or from network N (a hotel WiFi that allows only TCP). */
export function blockUdp(network: number): void {
  const subnet = `${networkPrefix(network)}.0/24`;
  inRouter('iptables', '-A', 'FORWARD', '-p', 'udp', '-s', subnet, '-j', 'DROP');
  inRouter('iptables', '-A', 'FORWARD', '-p', 'udp', '-d', subnet, '-j', 'DROP');
}

let delay: ChildProcess | null = null;
// One handler for the whole run: whatever delay process is current dies with the test process.
process.once('exit', () => delay?.kill('SIGKILL'));

function stopDelay(): void {
  delay?.kill('SIGKILL');
  delay = null;
  try {
    // A delay process of a crashed run (the queue fails open without it, but it must not linger).
    run('pkill', ['-f', delayScript]);
  } catch {
    // none
  }
}

/**
 * The router drops a share of every packet it forwards (both ways) and holds each one for a delay (each way),
 * so a round trip through it gains twice the delay.
 */
export async function impair(o: { lossPercent?: number; delayMs?: number }): Promise<void> {
  if (o.lossPercent) {
    inRouter(
      'iptables',
      '-I',
      'FORWARD',
      '-m',
      'statistic',
      '--mode',
      'random',
      '--probability',
      String(o.lossPercent / 100),
      '-j',
      'DROP',
    );
  }
  if (o.delayMs) {
    delay?.kill('SIGKILL');
    const child = spawn(
      'ip',
      ['netns', 'exec', ROUTER, 'python3', delayScript, String(DELAY_QUEUE), String(o.delayMs)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    delay = child;
    await new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`delay-queue.py exited (${code})`)));
      createInterface({ input: child.stdout! }).once('line', () => resolve());
    });
    inRouter('iptables', '-A', 'FORWARD', '-j', 'NFQUEUE', '--queue-num', String(DELAY_QUEUE), '--queue-bypass');
  }
}

/** Back to the start: no impairment, both people on their home networks. */
export function resetLab(): void {
  stopDelay();
  inRouter('iptables', '-F', 'FORWARD');
  for (const person of PEOPLE) {
    disconnect(person);
    for (const name of inRouter('ip', '-o', 'link', 'show').matchAll(new RegExp(`ffn-${person}\\d+`, 'g'))) {
      try {
        inRouter('ip', 'link', 'del', name[0]);
      } catch {
        // went with its peer
      }
    }
    connect(person, HOME_NETWORK[person]);
  }
}

/** An executable that starts Debian's Chromium inside the person's namespace (for Playwright's launch). */
export function chromiumIn(person: Person): string {
  const file = join(tmpdir(), `ffn-chromium-${person}`);
  if (!existsSync(file)) {
    writeFileSync(file, `#!/bin/sh\nexec ip netns exec ${namespaceOf(person)} ${CHROMIUM_PATH} "$@"\n`);
    chmodSync(file, 0o755);
  }
  return file;
}
