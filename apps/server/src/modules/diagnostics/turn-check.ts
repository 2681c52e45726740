import type { DiagnosticCheck } from '@fusionflow/protocol';
import { certificateFinding } from './certificate-expiry.js';
import { parseTurnUrl, probeTurn, type TurnProbe } from './turn-client.js';

export interface TurnCheckOptions {
  url: string;
  username: string;
  credential: string;
  expectedRealm: string | undefined;
  ttlSeconds: number;
  ca?: string | Buffer;
  timeoutMs?: number;
}

type Finding = Pick<DiagnosticCheck, 'status' | 'summary' | 'fix'> & { details?: Record<string, unknown> };

const via = (transport: string) => ({ udp: 'UDP', tcp: 'TCP', tls: 'TLS' })[transport] ?? transport;

/** A probe's outcome in plain words: what is wrong and what to change. */
export function describeTurnProbe(url: string, transport: string, p: TurnProbe, ttlSeconds: number): Finding {
  const where = `${url} (${via(transport)})`;
  switch (p.outcome) {
    case 'ok':
      return {
        status: 'ok',
        summary: `allocated a relay at ${p.relayed.address}:${p.relayed.port} with fresh credentials and relayed a test datagram through it`,
        details: { realm: p.realm, relayed: p.relayed, mapped: p.mapped, allocateMs: Math.round(p.rttMs) },
      };
    case 'unreachable':
      return {
        status: 'fail',
        summary: `no TURN answer from ${where}: ${p.error}`,
        fix:
          transport === 'udp'
            ? 'Check that coturn runs (systemctl status coturn), listens on this address and port, and that the firewall lets UDP in (ufw allow 3478/udp).'
            : 'Check that coturn runs, listens on this address and port (listening-port / tls-listening-port), and that the firewall lets TCP in (ufw allow 3478/tcp, 5349/tcp).',
      };
    case 'tls_untrusted':
      return {
        status: 'fail',
        summary: `the TLS certificate of ${where} is not trusted: ${p.error}`,
        fix: 'Give coturn a valid certificate for the name in TURN_URLS (cert= and pkey= in turnserver.conf, e.g. from certbot), readable by the turnserver user, and restart it. Browsers refuse turns: with a bad certificate.',
      };
    case 'open':
      return {
        status: 'warn',
        summary: `${where} relayed without any credentials: anyone can use it`,
        fix: 'Set use-auth-secret and static-auth-secret in turnserver.conf (the same value as TURN_SECRET) and restart coturn.',
      };
    case 'wrong_realm':
      return {
        status: 'fail',
        summary: `${where} answers for realm "${p.realm}", but TURN_REALM is "${p.expected}"`,
        fix: `Make them agree: set realm=${p.expected} in turnserver.conf, or TURN_REALM=${p.realm} here if that TURN server is the right one. With use-auth-secret, a credential is only valid for the realm whose secret signed it.`,
        details: { realm: p.realm, expected: p.expected },
      };
    case 'rejected':
      return {
        status: 'fail',
        summary: `${where} refused freshly minted credentials (${p.code} ${p.reason}) for realm "${p.realm}": TURN_SECRET is not coturn's static-auth-secret`,
        fix: `Set TURN_SECRET to the static-auth-secret of turnserver.conf (or the secret of realm "${p.realm}" when coturn keeps secrets per realm), and check that both machines' clocks are right: credentials expire TURN_TTL_SECONDS (${ttlSeconds} s) after they are minted.`,
        details: { realm: p.realm, code: p.code },
      };
    case 'refused':
      return {
        status: 'fail',
        summary: `${where} refused the allocation: ${p.code} ${p.reason}`,
        fix:
          p.code === 508
            ? 'No relay port is free: widen min-port/max-port in turnserver.conf or look for another process using that range.'
            : p.code === 486
              ? 'The allocation quota is reached: raise user-quota / total-quota in turnserver.conf.'
              : 'Read coturn’s log for the reason (journalctl -u coturn).',
        details: { realm: p.realm, code: p.code },
      };
    case 'peer_denied':
      return {
        status: 'warn',
        summary: `allocated a relay at ${p.relayed.address}:${p.relayed.port}, but coturn refuses ${p.peer} (this machine) as a peer (${p.code} ${p.reason}), so the relay's reachability was not tested`,
        fix: 'Expected when this machine sits in a range denied-peer-ip refuses (private networks). Run npm run doctor from a machine outside that network to test the relay ports, or check them with a relay-only call.',
        details: { realm: p.realm, relayed: p.relayed, peer: p.peer },
      };
    case 'relay_closed':
      return {
        status: 'fail',
        summary: `allocated a relay at ${p.relayed.address}:${p.relayed.port}, but a datagram sent to it never came back: the relay ports are closed`,
        fix: 'Open the relay range (min-port–max-port in turnserver.conf, 49160–49999/udp by default) in the firewall, and behind NAT forward it to the TURN server and set external-ip=PUBLIC/PRIVATE. Until then calls connect, ICE looks fine, and no media flows.',
        details: { realm: p.realm, relayed: p.relayed, mapped: p.mapped },
      };
  }
}

/** A real TURN allocation over the URL's transport with fresh credentials, as a diagnostic. */
export async function checkTurn(o: TurnCheckOptions): Promise<Omit<DiagnosticCheck, 'durationMs'>> {
  const base = { id: `turn:${o.url}`, title: `TURN relay ${o.url}` };
  let server: ReturnType<typeof parseTurnUrl>;
  try {
    server = parseTurnUrl(o.url);
  } catch (err) {
    return {
      ...base,
      status: 'fail',
      summary: (err as Error).message,
      fix: 'Write TURN_URLS entries as turn:host:3478?transport=udp, turn:host:3478?transport=tcp or turns:host:5349?transport=tcp.',
    };
  }
  const { probe, certificate } = await probeTurn(server, {
    username: o.username,
    credential: o.credential,
    ...(o.expectedRealm !== undefined ? { expectedRealm: o.expectedRealm } : {}),
    ...(o.ca ? { ca: o.ca } : {}),
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
  });
  const finding = describeTurnProbe(o.url, server.transport, probe, o.ttlSeconds);
  if (certificate?.valid_to) {
    const cert = certificateFinding(certificate.valid_to, `the TLS certificate of ${o.url}`);
    finding.details = { ...finding.details, certificateExpires: cert.expires };
    if (finding.status === 'ok' && cert.status !== 'ok') {
      finding.status = cert.status;
      finding.summary = `${finding.summary}; ${cert.summary}`;
      finding.fix = cert.fix;
    }
  }
  return { ...base, ...finding };
}
