import {
  ConfigError,
  type ConfigOf,
  loadConfig,
  objectStoreConfigOf,
  objectStoreSettings,
  read,
  setting,
  type TrustProxy,
} from '@fusionflow/kit';
import { TokenPack } from '@fusionflow/protocol';
import { z } from 'zod';

/**
 * Every setting of the control plane. Nothing else in the server reads `process.env`.
 * docs/operations.md lists these (a test keeps the two in step).
 */
export const serverSettings = {
  host: setting('HOST', read.string(255), 'Interface to listen on (0.0.0.0 to expose beyond this machine).', {
    default: '127.0.0.1',
  }),
  port: setting('PORT', read.int(0, 65535), 'HTTP port of the platform (0 picks a free port).', { default: 8080 }),
  publicUrl: setting(
    'PUBLIC_URL',
    read.url(),
    'Origin users reach the platform at (https://live.example.com); used for WHIP/WHEP URLs. Defaults to the request origin.',
  ),
  logLevel: setting(
    'LOG_LEVEL',
    read.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    'Log level. `info` shows the start-up banner, warnings and errors, but not every HTTP request (see LOG_REQUESTS).',
    {
      default: 'info',
    },
  ),
  logRequests: setting(
    'LOG_REQUESTS',
    read.bool(),
    'Log every HTTP request (one JSON line when it arrives and one when it is answered, with its request id) and every refused one. Off by default: the start-up output stays readable; nginx access logs and the http_requests_total metric cover production.',
    { default: false },
  ),
  dataDir: setting(
    'DATA_DIR',
    read.string(),
    'Directory for the embedded database (PGlite) when DATABASE_URL is unset.',
    {
      default: './data',
    },
  ),
  databaseUrl: setting(
    'DATABASE_URL',
    read.url(['postgres:', 'postgresql:']),
    'PostgreSQL connection string; the embedded PGlite is used when unset.',
    {
      secret: true,
    },
  ),
  databasePoolSize: setting('DATABASE_POOL_SIZE', read.int(1, 200), 'PostgreSQL connection pool size.', {
    default: 10,
  }),
  webDir: setting(
    'WEB_DIR',
    read.string(),
    'Built web app to serve (apps/web/dist by default); the API works without it.',
  ),
  corsOrigins: setting(
    'CORS_ORIGINS',
    read.list(),
    'Comma-separated origins allowed to call the API from another origin.',
    {
      default: [] as string[],
    },
  ),
  trustProxy: setting(
    'TRUST_PROXY',
    read.trustProxy(),
    'Which proxies to believe about the client (X-Forwarded-For, -Proto, -Host): false (none), the number of proxies in front (1 for nginx on this machine), or their addresses/CIDRs (127.0.0.1,10.0.0.0/8). `true` is refused: every client could pick its own address.',
    { default: false as TrustProxy },
  ),
  bodyLimitBytes: setting('BODY_LIMIT_BYTES', read.int(1024, 10 * 1024 * 1024), 'Largest accepted request body.', {
    default: 64 * 1024,
  }),
  rateLimitPerMinute: setting(
    'RATE_LIMIT_PER_MINUTE',
    read.int(1, 1_000_000),
    'API requests per minute per client IP.',
    {
      default: 600,
    },
  ),
  loginRatePerIpPerMinute: setting(
    'LOGIN_RATE_PER_IP_PER_MINUTE',
    read.int(1, 10_000),
    'Login attempts per minute per client address, counted before the password is checked.',
    {
      default: 20,
    },
  ),
  loginFailuresPerAccountPerIp: setting(
    'LOGIN_FAILURES_PER_ACCOUNT_PER_IP',
    read.int(1, 10_000),
    'Failed logins for one account from one address per 15 minutes; then that address may not try that account for the rest of the window (the owner elsewhere still can). An attempt counts as failed until its password checks out.',
    { default: 10 },
  ),
  loginFailuresPerIp: setting(
    'LOGIN_FAILURES_PER_IP',
    read.int(1, 100_000),
    'Failed logins from one address, for any accounts, per 15 minutes; then the address may not log in for the rest of the window.',
    { default: 30 },
  ),
  loginDelayAfterFailures: setting(
    'LOGIN_DELAY_AFTER_FAILURES',
    read.int(1, 10_000),
    'Failed logins for one account (from all addresses, per 15 minutes) after which an address that failed on it waits before its next try: 1 s, doubling with each further failure, up to LOGIN_DELAY_MAX_SECONDS.',
    { default: 5 },
  ),
  loginDelayMaxSeconds: setting(
    'LOGIN_DELAY_MAX_SECONDS',
    read.int(1, 3600),
    'Longest wait LOGIN_DELAY_AFTER_FAILURES imposes between tries.',
    { default: 60 },
  ),
  loginHashConcurrency: setting(
    'LOGIN_HASH_CONCURRENCY',
    read.int(1, 64),
    'Sign-in password checks (scrypt) running at once per process; more wait. Sign-ins and sign-ups have separate shares, so a flood of one does not queue the other.',
    { default: 2 },
  ),
  registrationsPerIpPerHour: setting(
    'REGISTRATIONS_PER_IP_PER_HOUR',
    read.int(1, 1_000_000),
    'Sign-ups per hour per client address, counted before the password is hashed.',
    { default: 10 },
  ),
  registrationHashConcurrency: setting(
    'REGISTRATION_HASH_CONCURRENCY',
    read.int(1, 64),
    'Sign-up password hashes (scrypt) running at once per process; more wait.',
    { default: 2 },
  ),
  passwordHashMaxWaiting: setting(
    'PASSWORD_HASH_MAX_WAITING',
    read.int(0, 100_000),
    'Sign-ins (and, separately, sign-ups) that may wait for a password-hashing slot; one more is refused with 503 unavailable and Retry-After.',
    { default: 100 },
  ),
  accessTokenTtlSeconds: setting('ACCESS_TOKEN_TTL_SECONDS', read.int(30, 86_400), 'Lifetime of access tokens.', {
    default: 900,
  }),
  refreshTokenTtlDays: setting('REFRESH_TOKEN_TTL_DAYS', read.int(1, 365), 'Lifetime of refresh tokens (sessions).', {
    default: 30,
  }),
  refreshReuseGraceSeconds: setting(
    'REFRESH_REUSE_GRACE_SECONDS',
    read.int(0, 300),
    'A refresh token presented again this soon after its exchange (two tabs at once) gets a new token instead of ending the session.',
    { default: 10 },
  ),
  accessTokenSecret: setting(
    'ACCESS_TOKEN_SECRET',
    read.string().min(32, 'must be at least 32 characters'),
    'HMAC secret for access tokens; generated on first start and kept in the database when unset.',
    { secret: true },
  ),
  passwordHashCost: setting(
    'PASSWORD_HASH_COST',
    read.int(10, 20),
    'scrypt cost as log2(N); 15 uses 32 MiB per hash.',
    {
      default: 15,
    },
  ),
  grantTtlSeconds: setting('GRANT_TTL_SECONDS', read.int(10, 86_400), 'Lifetime of media-plane grants.', {
    default: 300,
  }),
  grantPrivateKey: setting(
    'GRANT_PRIVATE_KEY',
    read.string(),
    'Ed25519 private key (PKCS#8 PEM) that signs grants; generated on first start and kept in the database when unset.',
    { secret: true },
  ),
  stunUrls: setting('STUN_URLS', read.list(), 'STUN servers handed to clients (stun:turn.example.com:3478).', {
    default: [] as string[],
  }),
  turnUrls: setting(
    'TURN_URLS',
    read.list(),
    'TURN servers handed to clients with time-limited credentials (turn:…, turns:…).',
    {
      default: [] as string[],
    },
  ),
  turnSecret: setting('TURN_SECRET', read.string(), "coturn's static-auth-secret (use-auth-secret).", { secret: true }),
  turnTtlSeconds: setting('TURN_TTL_SECONDS', read.int(60, 172_800), 'Lifetime of TURN credentials.', {
    default: 3600,
  }),
  turnRealm: setting(
    'TURN_REALM',
    read.string(255),
    "coturn's realm; the doctor checks that the TURN servers answer with it (any realm when unset).",
  ),
  smtpUrl: setting(
    'SMTP_URL',
    read.url(['smtp:', 'smtps:']),
    'SMTP server for account email ("forgot password"): smtp://user:password@mail.example.com:587 (STARTTLS when offered) or smtps://…:465. Unset: no email is sent, the sign-in page offers no reset link, and an admin makes reset links instead.',
    { secret: true },
  ),
  smtpFrom: setting('SMTP_FROM', read.string(320), 'Sender of account email.', {
    default: 'FusionFlow <no-reply@localhost>',
  }),
  passwordResetTtlMinutes: setting(
    'PASSWORD_RESET_TTL_MINUTES',
    read.int(5, 24 * 60),
    'How long a password-reset link works (once).',
    { default: 30 },
  ),
  passwordResetsPerHour: setting(
    'PASSWORD_RESETS_PER_HOUR',
    read.int(1, 10_000),
    'Password-reset emails per hour, per client address and (separately) per email address asked for.',
    { default: 5 },
  ),
  redisUrl: setting(
    'REDIS_URL',
    read.url(['redis:', 'rediss:']),
    'Redis (redis://host:6379/0): shared call state and Socket.IO rooms across server processes; in-memory (one process) when unset.',
    { secret: true },
  ),
  redisKeyPrefix: setting(
    'REDIS_KEY_PREFIX',
    read.string(100).regex(/^[A-Za-z0-9:_-]*$/, 'letters, digits, ":", "_" and "-" only'),
    'Prefix of every Redis key and channel, so several installations can share one Redis.',
    { default: 'ff:' },
  ),
  reconnectGraceSeconds: setting(
    'RECONNECT_GRACE_SECONDS',
    read.int(1, 3600),
    'How long a call slot is held for a peer whose connection dropped; it resumes the same slot if it comes back in time.',
    { default: 30 },
  ),
  signalingMaxMessageBytes: setting(
    'SIGNALING_MAX_MESSAGE_BYTES',
    read.int(1024, 1024 * 1024),
    'Largest real-time message accepted (JSON bytes); larger ones are refused with payload_too_large. Frames over twice this close the connection.',
    { default: 64 * 1024 },
  ),
  signalingMessagesPer10s: setting(
    'SIGNALING_MESSAGES_PER_10S',
    read.int(1, 100_000),
    'Real-time messages one connection may send per 10 seconds; more are refused with rate_limited.',
    { default: 300 },
  ),
  signalingMaxConnectionsPerUser: setting(
    'SIGNALING_MAX_CONNECTIONS_PER_USER',
    read.int(1, 10_000),
    'Real-time connections one account or guest token may have open per process; one more is refused with too_many_connections.',
    { default: 10 },
  ),
  signalingMaxConnectionsPerIp: setting(
    'SIGNALING_MAX_CONNECTIONS_PER_IP',
    read.int(1, 1_000_000),
    'Real-time connections one client address may have open per process, accounts and guests together (guest tokens are free, so this is what holds guests). Raise it when many users share one address.',
    { default: 50 },
  ),
  signalingPingIntervalMs: setting(
    'SIGNALING_PING_INTERVAL_MS',
    read.int(1000, 120_000),
    'How often the server pings each real-time connection (with the timeout: how soon a dead connection, e.g. a phone that changed network, is noticed and its call slot starts its grace).',
    { default: 5000 },
  ),
  signalingPingTimeoutMs: setting(
    'SIGNALING_PING_TIMEOUT_MS',
    read.int(1000, 120_000),
    'A connection that does not answer a ping within this time is dropped (its call slot then waits RECONNECT_GRACE_SECONDS).',
    { default: 5000 },
  ),
  testHooks: setting(
    'TEST_HOOKS',
    read.bool(),
    'TEST ONLY: enables /api/test-hooks/* (e.g. dropping a media-state message). Never set it in production.',
    { default: false },
  ),
  testCallMinuteSeconds: setting(
    'TEST_CALL_MINUTE_SECONDS',
    read.int(1, 3600),
    'TEST ONLY, honoured only with TEST_HOOKS=true: length of a billed private-call minute (browser tests shorten it).',
    { default: 60 },
  ),
  demoAccounts: setting(
    'DEMO_ACCOUNTS',
    read.oneOf(['auto', 'true', 'false']),
    'Create demo accounts and print them (with their password) at start-up; auto = only with the embedded database while HOST is a loopback address (any other HOST needs true, and the banner warns).',
    { default: 'auto' as const },
  ),
  platformFeePercent: setting(
    'PLATFORM_FEE_PERCENT',
    read.number(0, 100),
    'Platform fee: percent of every tip, ticket and call minute (rounded down; see docs/protocol.md).',
    { default: 20 },
  ),
  studioSharePercent: setting(
    'STUDIO_SHARE_PERCENT',
    read.number(0, 100),
    "A studio's share of its streamers' earnings after the platform fee (rounded down).",
    { default: 30 },
  ),
  tokenPacks: setting(
    'TOKEN_PACKS',
    read.json(z.array(TokenPack).min(1)),
    'Token packs on sale, JSON: [{"id","tokens","priceCents","currency"}].',
    {
      default: [
        { id: 'starter', tokens: 100, priceCents: 499, currency: 'USD' },
        { id: 'fan', tokens: 550, priceCents: 2499, currency: 'USD' },
        { id: 'patron', tokens: 1200, priceCents: 4999, currency: 'USD' },
      ],
    },
  ),
  paymentsDevProvider: setting(
    'PAYMENTS_DEV_PROVIDER',
    read.oneOf(['auto', 'true', 'false']),
    'The dev payment provider credits purchases at once without payment (demo only); auto = on only with the embedded database while HOST is a loopback address (any other HOST needs true, and the banner warns).',
    { default: 'auto' as const },
  ),
  paymentsWebhookSecret: setting(
    'PAYMENTS_WEBHOOK_SECRET',
    read.string().min(16, 'must be at least 16 characters'),
    "Shared secret of the payment provider's signed webhook; the webhook provider is on when set.",
    { secret: true },
  ),
  paymentsWebhookToleranceSeconds: setting(
    'PAYMENTS_WEBHOOK_TOLERANCE_SECONDS',
    read.int(10, 3600),
    'Oldest (or furthest in the future) webhook timestamp accepted.',
    { default: 300 },
  ),
  reportsPerHour: setting(
    'REPORTS_PER_HOUR',
    read.int(1, 10_000),
    'Reports one account may file per hour (checked in the database, so it holds across processes and bursts).',
    { default: 20 },
  ),
  payoutSecondApprovalTokens: setting(
    'PAYOUT_SECOND_APPROVAL_TOKENS',
    read.int(0, 1_000_000_000),
    'Payouts above this many tokens need two different admins to approve (four eyes); 0: every payout does.',
    { default: 10_000 },
  ),
  tipMaxTokens: setting('TIP_MAX_TOKENS', read.int(1, 10_000_000), 'Largest single tip.', { default: 10_000 }),
  tipsPerMinute: setting('TIPS_PER_MINUTE', read.int(1, 10_000), 'Tips one account may send per minute.', {
    default: 30,
  }),
  sfuUrl: setting(
    'SFU_URL',
    read.url(),
    'Base URL of an SFU run on its own (http://10.0.0.5:8090). Unset: the control plane runs one itself (SFU_EMBEDDED).',
  ),
  sfuEmbedded: setting(
    'SFU_EMBEDDED',
    read.bool(),
    'Without SFU_URL, start the SFU as a child process on a free loopback port (WHIP/WHEP are forwarded to it).',
    { default: true },
  ),
  sfuConfigFile: setting(
    'SFU_CONFIG_FILE',
    read.string(),
    'JSON settings file handed to the embedded SFU as its CONFIG_FILE.',
  ),
  sfuInternalSecret: setting(
    'SFU_INTERNAL_SECRET',
    read.string().min(32, 'must be at least 32 characters'),
    'Shared HMAC secret of SFU events and admin calls (the SFU’s INTERNAL_SECRET); generated and kept in the database when unset.',
    { secret: true },
  ),
  mediaNodeTtlSeconds: setting(
    'MEDIA_NODE_TTL_SECONDS',
    read.int(2, 3600),
    'An SFU node that has not reported (SFU_REPORT_INTERVAL_SECONDS) for this long is unhealthy: placement sends it no new session. It is forgotten after ten times as long. Keep it at least three report intervals.',
    { default: 15 },
  ),
  mediaFullRetryAfterSeconds: setting(
    'MEDIA_FULL_RETRY_AFTER_SECONDS',
    read.int(1, 600),
    'Retry-After of a grant refused (503 sfu_full) because the room’s origin node is draining or unhealthy, or it and every other usable node are full.',
    { default: 5 },
  ),
  sfuOriginMaxViewers: setting(
    'SFU_ORIGIN_MAX_VIEWERS',
    read.int(0, 10_000_000),
    'With several SFU nodes: the most viewers of one room placed on its origin node (where its publisher is) while another usable node has room; the next ones go to other nodes fed by a relay from the origin, so the origin’s event loop stays free for the publisher. Past every other node’s room the origin takes more. 0: no limit (viewers go elsewhere only when the origin is full).',
    { default: 20 },
  ),
  publisherGraceSeconds: setting(
    'PUBLISHER_GRACE_SECONDS',
    read.int(0, 3600),
    'A live room whose publisher dropped without ending it (a reload, a network switch, an encoder crash, a WHIP DELETE from an encoder) ends after this long without a new publisher. The SFU reads the same setting for how long a dropped publisher’s recording waits: set both to the same value.',
    { default: 30 },
  ),
  recordingFormat: setting(
    'RECORDING_FORMAT',
    read.oneOf(['webm', 'ivf-ogg']),
    'How the SFU records a broadcast of a room with record on: webm (one WebM file, audio and video) or ivf-ogg (one IVF per video track, one Ogg per audio track).',
    { default: 'webm' },
  ),
  recordingsDir: setting(
    'RECORDINGS_DIR',
    read.string(),
    'Directory of recorded broadcasts (replays) on local disk, passed to the embedded SFU; default <DATA_DIR>/recordings. A separate SFU host needs S3 (or shared storage) for replays to play.',
  ),
  recordingRetentionDays: setting(
    'RECORDING_RETENTION_DAYS',
    read.int(0, 36500),
    'Recordings (ready or failed) that ended more than this many days ago are deleted: their local files and S3 objects go, the row stays marked deleted; checked every 10 minutes. 0 keeps them forever.',
    { default: 0 },
  ),
  translationEngine: setting(
    'TRANSLATION_ENGINE',
    read.oneOf(['none', 'libretranslate', 'apertium']),
    'Self-hosted engine that translates chat: libretranslate (production), apertium (Apertium APy), or none (chat shows originals).',
    { default: 'none' },
  ),
  translationUrl: setting(
    'TRANSLATION_URL',
    read.url(),
    'Base URL of the translation engine (http://127.0.0.1:5000 for LibreTranslate, http://127.0.0.1:2737 for Apertium APy); required with an engine.',
  ),
  translationApiKey: setting(
    'TRANSLATION_API_KEY',
    read.string(),
    'LibreTranslate api_key, when the server requires one.',
    { secret: true },
  ),
  translationTimeoutMs: setting(
    'TRANSLATION_TIMEOUT_MS',
    read.int(100, 60_000),
    'Time limit of one translation request; a message past it shows untranslated.',
    { default: 3000 },
  ),
  translationConcurrency: setting(
    'TRANSLATION_CONCURRENCY',
    read.int(1, 256),
    'Translation requests in flight at once per server process; more wait in a queue.',
    { default: 8 },
  ),
  translationMaxQueue: setting(
    'TRANSLATION_MAX_QUEUE',
    read.int(0, 100_000),
    'Translation requests that may wait for the engine; beyond it a message shows untranslated at once.',
    { default: 500 },
  ),
  translationBreakerFailures: setting(
    'TRANSLATION_BREAKER_FAILURES',
    read.int(1, 1000),
    'Failed engine requests in a row that open the circuit breaker (chat stops calling the engine for a while).',
    { default: 5 },
  ),
  translationBreakerCooldownMs: setting(
    'TRANSLATION_BREAKER_COOLDOWN_MS',
    read.int(100, 3_600_000),
    'How long an open circuit breaker waits before one trial request.',
    { default: 30_000 },
  ),
  translationCacheEntries: setting(
    'TRANSLATION_CACHE_ENTRIES',
    read.int(1, 10_000_000),
    'Translations kept in memory per process (every translation is also kept in the database).',
    { default: 50_000 },
  ),
  chatMaxLength: setting('CHAT_MAX_LENGTH', read.int(1, 2000), 'Longest chat message, in characters.', {
    default: 500,
  }),
  chatBatchMs: setting(
    'CHAT_BATCH_MS',
    read.int(0, 1000),
    'In a busy room, chat messages and translations arriving within this many ms go to each member as one frame (chat:batch); a quiet room sends each at once. 0 turns batching off.',
    { default: 100 },
  ),
  chatMessagesPer10s: setting(
    'CHAT_MESSAGES_PER_10S',
    read.int(1, 10_000),
    'Chat messages one user may send per 10 seconds (streamers and moderators are exempt).',
    { default: 10 },
  ),
  diagnosticsIntervalSeconds: setting(
    'DIAGNOSTICS_INTERVAL_SECONDS',
    read.int(0, 86_400),
    'Run the doctor (every check, real TURN allocations included) this often and publish the results as metrics for the alerts; 0 only on request.',
    { default: 300 },
  ),
  ledgerAuditIntervalSeconds: setting(
    'LEDGER_AUDIT_INTERVAL_SECONDS',
    read.int(0, 86_400),
    'Re-check the ledger’s invariants (sums, balances) from the database this often (one scan of the entries) and publish them as metrics; 0 never.',
    { default: 300 },
  ),
  /** The recordings' bucket, as the SFU has it: replays are served from it by presigned URLs, and retention deletes there. */
  ...objectStoreSettings,
  otelEndpoint: setting('OTEL_EXPORTER_OTLP_ENDPOINT', read.url(), 'OTLP/HTTP endpoint; tracing is on when set.'),
  otelServiceName: setting('OTEL_SERVICE_NAME', read.string(100), 'Service name in traces.', {
    default: 'fusionflow-server',
  }),
};

export type ServerConfig = ConfigOf<typeof serverSettings>;

/** Does the server listen only where other machines cannot reach it (127.0.0.0/8, ::1, localhost)? */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Whether a demo convenience (DEMO_ACCOUNTS, PAYMENTS_DEV_PROVIDER) is on. `auto` is on only for a
 * try-out on one's own machine: the embedded database and a loopback HOST. A server others can reach
 * (HOST=0.0.0.0 or any other address) needs `true` said explicitly, because free tokens and accounts
 * with a printed password are then anyone's.
 */
export function demoConvenienceOn(
  value: 'auto' | 'true' | 'false',
  config: Pick<ServerConfig, 'host'>,
  embeddedDatabase: boolean,
): boolean {
  return value === 'true' || (value === 'auto' && embeddedDatabase && isLoopbackHost(config.host));
}

/** Settings that were renamed: set, they would be ignored silently, so start-up refuses them. */
const RENAMED: Record<string, string> = {
  LOGIN_FAILURES_PER_ACCOUNT:
    'LOGIN_FAILURES_PER_ACCOUNT is gone (a stranger could lock anyone out with it): use LOGIN_FAILURES_PER_ACCOUNT_PER_IP, LOGIN_FAILURES_PER_IP and LOGIN_DELAY_AFTER_FAILURES',
};

export function loadServerConfig(env: Record<string, string | undefined>): ServerConfig {
  const renamed = Object.keys(RENAMED).filter((name) => env[name] !== undefined && env[name] !== '');
  if (renamed.length > 0) throw new ConfigError(renamed.map((name) => RENAMED[name]!));
  const config = loadConfig(serverSettings, { env, file: env.CONFIG_FILE });
  if (config.translationEngine !== 'none' && !config.translationUrl) {
    throw new ConfigError([`TRANSLATION_URL: required when TRANSLATION_ENGINE is ${config.translationEngine}`]);
  }
  // All S3 settings or none: a half-configured store is refused at start, not at the first replay.
  objectStoreConfigOf(config);
  return config;
}

/** A complete config for tests: defaults with overrides, no environment. */
export function testServerConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return Object.freeze({
    ...loadConfig(serverSettings, { env: {} }),
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    passwordHashCost: 10,
    refreshReuseGraceSeconds: 0,
    // Suites sign up and connect many users from 127.0.0.1; the tests of these limits set their own.
    registrationsPerIpPerHour: 1_000_000,
    signalingMaxConnectionsPerIp: 1_000_000,
    demoAccounts: 'false',
    sfuEmbedded: false,
    // Each chat event as itself, so a test reads exactly what one event causes; the batching test turns it on.
    chatBatchMs: 0,
    // Background checks only where a test asks for them.
    diagnosticsIntervalSeconds: 0,
    ledgerAuditIntervalSeconds: 0,
    ...overrides,
  }) as ServerConfig;
}
