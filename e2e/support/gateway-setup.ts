import type { FullConfig } from '@playwright/test';
import { makeTestCertificates } from '../../test/support/certificates.js';
import { freeTcpPort, startNginx } from '../../test/support/nginx.js';
import { tools } from '../../test/support/tools.js';
import { startPlatform } from './global-setup.js';
import { E2E_ENV } from './server-env.js';

/**
 * The gateway run: the built platform behind Debian's nginx with deploy/nginx/fusionflow.conf and
 * a certificate from a test CA; the scenarios open https://localhost:PORT (FF_E2E_BASE_URL).
 * Without nginx or openssl they are skipped (FF_REQUIRE_NGINX=1 / FF_REQUIRE_OPENSSL=1: a failure).
 */
export default async function gatewaySetup(config: FullConfig): Promise<void> {
  const nginx = tools.nginx();
  const openssl = tools.openssl();
  if (!nginx.available || !openssl.available) {
    process.env[E2E_ENV.gatewaySkip] = nginx.available ? openssl.skipReason : nginx.skipReason;
    console.log(`e2e gateway: skipped, ${process.env[E2E_ENV.gatewaySkip]}`);
    return;
  }
  const certs = makeTestCertificates();
  process.env[E2E_ENV.certsDir] = certs.dir;
  const port = await freeTcpPort();
  const upstream = await startPlatform(config, {
    translation: false,
    env: {
      PUBLIC_URL: `https://localhost:${port}`,
      // One proxy hop, nginx (a hop count after the hardening branch; on this branch "1" reads as true).
      TRUST_PROXY: '1',
      // The doctor checks the certificate at PUBLIC_URL: trust the test CA as an operator trusts theirs.
      NODE_EXTRA_CA_CERTS: certs.caFile,
    },
  });
  const gateway = await startNginx({ upstreams: [upstream], certFile: certs.certFile, keyFile: certs.keyFile, port });
  process.env[E2E_ENV.nginxPid] = String(gateway.pid);
  process.env[E2E_ENV.nginxDir] = gateway.dir;
  process.env[E2E_ENV.upstreamUrl] = upstream;
  process.env[E2E_ENV.baseUrl] = gateway.url;
  console.log(`e2e gateway: nginx at ${gateway.url} in front of ${upstream}`);
}
