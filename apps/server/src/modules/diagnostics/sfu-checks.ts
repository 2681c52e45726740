import { BlockList, isIP } from 'node:net';
import type { SfuNetworkInfo } from '@fusionflow/protocol';
import type { Finding } from './system-checks.js';

/** Addresses a browser on the internet cannot reach. */
const unroutable = new BlockList();
for (const [net, prefix] of [
  ['10.0.0.0', 8],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['127.0.0.0', 8],
] as const) {
  unroutable.addSubnet(net, prefix, 'ipv4');
}
unroutable.addSubnet('fc00::', 7, 'ipv6');
unroutable.addSubnet('fe80::', 10, 'ipv6');
unroutable.addAddress('::1', 'ipv6');

const isPrivate = (address: string) => {
  const family = isIP(address);
  return family !== 0 && unroutable.check(address, family === 6 ? 'ipv6' : 'ipv4');
};
const isLoopback = (address: string) => address === '::1' || address.startsWith('127.');
const isLocalUrl = (url: string | undefined) =>
  url !== undefined && ['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname);

/** The SFU node answers its health probe. */
export async function checkSfu(node: { id: string; url: string | undefined; embedded: boolean }): Promise<Finding> {
  const base = { id: node.embedded ? 'sfu' : `sfu:${node.id}`, title: `SFU (${node.id})` };
  if (!node.url) {
    return {
      ...base,
      status: 'fail',
      summary: node.embedded ? 'the embedded SFU is not running' : 'no SFU address is known',
      fix: node.embedded
        ? 'Read the control plane’s log for "embedded SFU" errors (the build must include apps/sfu/dist: npm run build).'
        : 'Set SFU_URL to the SFU’s base URL (http://10.0.0.5:8090).',
    };
  }
  try {
    const started = performance.now();
    const res = await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(3000) });
    const body = (await res.json()) as { status?: string; rooms?: number; sessions?: number };
    const ms = Math.round(performance.now() - started);
    if (!res.ok || body.status !== 'ok') throw new Error(`HTTP ${res.status}`);
    return {
      ...base,
      status: 'ok',
      summary: `answers in ${ms} ms: ${body.rooms ?? 0} rooms, ${body.sessions ?? 0} sessions`,
      details: { url: node.url, rooms: body.rooms, sessions: body.sessions, ms },
    };
  } catch (err) {
    return {
      ...base,
      status: 'fail',
      summary: `the SFU at ${node.url} does not answer: ${(err as Error).message}`,
      fix: node.embedded
        ? 'The control plane restarts its SFU when it dies; read its log for the reason.'
        : 'Check that the SFU runs (systemctl status fusionflow-sfu) and that this machine reaches SFU_URL.',
    };
  }
}

/**
 * The ICE addresses the SFU hands browsers are its own (or, behind 1:1 NAT, deliberately not), and
 * not loopback-only on a public installation.
 */
export function checkSfuIce(info: SfuNetworkInfo, o: { publicUrl: string | undefined; turnEnabled: boolean }): Finding {
  const base = { id: 'sfu-ice', title: 'ICE addresses the SFU advertises' };
  const own = new Set(info.interfaces);
  const foreign = info.iceAddresses.filter((a) => !own.has(a));
  const offered = info.iceOnlyAddresses
    ? info.iceAddresses
    : [...new Set([...info.interfaces.filter((a) => !isLoopback(a)), ...info.iceAddresses])];
  const details = {
    iceAddresses: info.iceAddresses,
    iceOnlyAddresses: info.iceOnlyAddresses,
    icePortRange: info.icePortRange,
    interfaces: info.interfaces,
    offered,
  };
  const publicInstall = o.publicUrl !== undefined && !isLocalUrl(o.publicUrl);
  if (publicInstall && offered.length > 0 && offered.every(isLoopback)) {
    return {
      ...base,
      status: 'fail',
      summary: `the SFU offers only loopback addresses (${offered.join(', ')}): browsers on other machines can never reach it`,
      fix: 'Set ICE_ADDRESSES to this machine’s public address and drop ICE_ONLY_ADDRESSES (or list the public address there).',
      details,
    };
  }
  if (foreign.length > 0) {
    return {
      ...base,
      status: 'warn',
      summary: `ICE_ADDRESSES lists ${foreign.join(', ')}, which no interface of the SFU's machine has (${info.interfaces.join(', ')})`,
      fix: 'Right only if it is the public side of a 1:1 NAT that forwards the SFU’s UDP ports (ICE_PORT_RANGE) to this machine, as on a cloud VM. Otherwise correct ICE_ADDRESSES: browsers try it first and wait for nothing.',
      details,
    };
  }
  if (publicInstall && offered.every(isPrivate) && !o.turnEnabled) {
    return {
      ...base,
      status: 'warn',
      summary: `every address the SFU offers is private (${offered.join(', ')}) and no TURN server is configured: viewers outside this network cannot play`,
      fix: 'Behind 1:1 NAT set ICE_ADDRESSES to the public address; otherwise configure TURN (TURN_URLS, TURN_SECRET).',
      details,
    };
  }
  if (!info.icePortRange) {
    return {
      ...base,
      status: 'warn',
      summary: `the SFU offers ${offered.join(', ') || 'no address'} on random UDP ports: a firewall must let every port in`,
      fix: 'Set ICE_PORT_RANGE=40000-40999 and open exactly that range (ufw allow 40000:40999/udp).',
      details,
    };
  }
  return {
    ...base,
    status: 'ok',
    summary: `the SFU offers its own address(es) ${offered.join(', ')} on UDP ${info.icePortRange[0]}–${info.icePortRange[1]}`,
    details,
  };
}
