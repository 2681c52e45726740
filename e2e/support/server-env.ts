/** Environment variables through which the global setup hands the running server to tests and teardown. */
export const E2E_ENV = {
  baseUrl: 'FF_E2E_BASE_URL',
  serverPid: 'FF_E2E_SERVER_PID',
  dataDir: 'FF_E2E_DATA_DIR',
  /** Password of the demo accounts (admin@fusionflow.test, …), read from the start-up banner. */
  demoPassword: 'FF_E2E_DEMO_PASSWORD',
  /** coturn started for the run: its pid, TURN URLs (comma-separated) and shared secret. */
  turnPid: 'FF_E2E_TURN_PID',
  turnDir: 'FF_E2E_TURN_DIR',
  turnUrls: 'FF_E2E_TURN_URLS',
  turnSecret: 'FF_E2E_TURN_SECRET',
  /** Apertium APy started for the run (its process group's id), and the chat's engine: `apertium` or `none`. */
  apertiumPid: 'FF_E2E_APERTIUM_PID',
  translation: 'FF_E2E_TRANSLATION',
  /** Why the chat scenario has no Apertium (the Debian packages to install), when it has none. */
  translationSkipped: 'FF_E2E_TRANSLATION_SKIPPED',
  /** The gateway run: nginx's master pid and directory, the test certificates' directory, the control plane behind it. */
  nginxPid: 'FF_E2E_NGINX_PID',
  nginxDir: 'FF_E2E_NGINX_DIR',
  certsDir: 'FF_E2E_CERTS_DIR',
  upstreamUrl: 'FF_E2E_UPSTREAM_URL',
  /** The SMTP server process the platform mails to (SMTP_URL): its pid and the directory of received mails. */
  mailPid: 'FF_E2E_MAIL_PID',
  mailDir: 'FF_E2E_MAIL_DIR',
  /** Why the gateway scenarios are skipped (nginx or openssl missing), when they are. */
  gatewaySkip: 'FF_E2E_GATEWAY_SKIP',
  /** Why the network suite is skipped (not root, iproute2, iptables or python3 missing), when it is. */
  networksSkip: 'FF_E2E_NETWORKS_SKIP',
} as const;
