import { connect, type PeerCertificate } from 'node:tls';

const DAY_MS = 86_400_000;
/** Certbot renews 30 days ahead; a certificate this close to its end means renewal is not working. */
export const EXPIRY_WARN_DAYS = 14;

export interface CertificateFinding {
  status: 'ok' | 'warn' | 'fail';
  summary: string;
  fix?: string;
  /** ISO 8601. */
  expires: string;
  secondsLeft: number;
}

/** Whether a certificate expiring at `validTo` (OpenSSL's date text) needs attention. */
export function certificateFinding(validTo: string, what: string, now = Date.now()): CertificateFinding {
  const expiresAt = new Date(validTo).getTime();
  const left = expiresAt - now;
  const expires = new Date(expiresAt).toISOString();
  const days = Math.floor(left / DAY_MS);
  const renew =
    'Renew it (certbot renew; check that the certbot timer runs: systemctl list-timers) and reload the server that uses it (nginx -s reload, systemctl restart coturn).';
  if (left <= 0)
    return { status: 'fail', summary: `${what} expired on ${expires}`, fix: renew, expires, secondsLeft: 0 };
  if (days < EXPIRY_WARN_DAYS) {
    return {
      status: 'warn',
      summary: `${what} expires in ${days} days (${expires})`,
      fix: renew,
      expires,
      secondsLeft: left / 1000,
    };
  }
  return { status: 'ok', summary: `${what} is valid for ${days} more days`, expires, secondsLeft: left / 1000 };
}

/** The certificate a TLS server presents (verified against the system's CAs, or `ca`). */
export function readCertificate(
  host: string,
  port: number,
  o: { ca?: string | Buffer; timeoutMs?: number } = {},
): Promise<PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host,
      port,
      servername: /^[\d.:]+$/.test(host) ? undefined : host,
      ...(o.ca ? { ca: o.ca } : {}),
    });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TLS handshake within ${o.timeoutMs ?? 5000} ms`));
    }, o.timeoutMs ?? 5000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
