import {
  type ConfigOf,
  loadConfig,
  objectStoreConfigOf,
  objectStoreSettings,
  read,
  setting,
  type TrustProxy,
} from '@fusionflow/kit';
import { z } from 'zod';

/** `room1:abc;room2:def` → { room1: 'abc', room2: 'def' } (seed 004's ROOM_TOKENS). */
const roomTokens = () =>
  z.string().transform((s, ctx) => {
    const out: Record<string, string> = {};
    for (const pair of s
      .split(';')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const i = pair.indexOf(':');
      const room = pair.slice(0, i).trim();
      const token = pair.slice(i + 1).trim();
      if (i <= 0 || !/^[A-Za-z0-9_-]{1,64}$/.test(room) || token === '') {
        ctx.addIssue({ code: 'custom', message: 'must look like room1:token1;room2:token2' });
        return z.NEVER;
      }
      out[room] = token;
    }
    return out;
  });

const portRange = () =>
  z
    .string()
    .regex(/^\d{1,5}-\d{1,5}$/, 'must look like 40000-40999')
    .transform((s) => s.split('-').map(Number) as [number, number])
    .refine(([a, b]) => a >= 1024 && b <= 65535 && a <= b, 'must be a range within 1024-65535');

/**
 * Every setting of the SFU (media plane). Nothing else in the SFU reads `process.env`.
 * docs/operations.md lists these (a test keeps the two in step).
 */
export const sfuSettings = {
  host: setting('SFU_HOST', read.string(255), 'Interface the SFU’s HTTP API listens on.', { default: '127.0.0.1' }),
  port: setting('SFU_PORT', read.int(0, 65535), 'HTTP port of the SFU (0 picks a free port).', { default: 8090 }),
  logLevel: setting(
    'LOG_LEVEL',
    read.oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']),
    'Log level.',
    { default: 'info' },
  ),
  logRequests: setting(
    'LOG_REQUESTS',
    read.bool(),
    'Log every HTTP request (WHIP/WHEP and admin calls) and every refused one. Off by default.',
    { default: false },
  ),
  controlUrl: setting(
    'CONTROL_URL',
    read.url(),
    'Base URL of the control plane (grants JWKS, stream-key admission, events). Unset: standalone SFU.',
  ),
  jwksUrl: setting(
    'JWKS_URL',
    read.url(),
    'Where the grant-verifying public keys are; defaults to CONTROL_URL/.well-known/jwks.json.',
  ),
  jwks: setting('JWKS', read.string(16_384), 'The JWKS itself (JSON), instead of fetching JWKS_URL.'),
  internalSecret: setting(
    'INTERNAL_SECRET',
    read.string().min(32, 'must be at least 32 characters'),
    'Shared secret (HMAC-SHA256) of events to and admin calls from the control plane. Required with CONTROL_URL.',
    { secret: true },
  ),
  roomTokens: setting('ROOM_TOKENS', roomTokens(), 'Standalone auth: per-room bearer tokens, room1:abc;room2:def.', {
    secret: true,
  }),
  authToken: setting('AUTH_TOKEN', read.string(), 'Standalone auth: one bearer token for every room.', {
    secret: true,
  }),
  jwtSecret: setting(
    'JWT_SECRET',
    read.string().min(32, 'must be at least 32 characters'),
    'Standalone auth: HS256 secret of JWTs with `room` and `role` claims (grants from JWKS work too).',
    { secret: true },
  ),
  corsOrigins: setting(
    'SFU_CORS_ORIGINS',
    read.list(),
    'Origins allowed to call WHIP/WHEP from a browser on another origin; * for any (bearer tokens, no cookies).',
    { default: ['*'] as string[] },
  ),
  maxSubscribersPerRoom: setting('MAX_SUBSCRIBERS_PER_ROOM', read.int(1, 100_000), 'Subscribers one room may have.', {
    default: 1000,
  }),
  maxViewers: setting(
    'SFU_MAX_VIEWERS',
    read.int(0, 1_000_000),
    'WHEP sessions this SFU process holds at once, over all rooms (0: no limit). Past it a viewer gets 503 sfu_full with Retry-After; publishers never count. About 100 per core for a 2.5 Mbit/s stream (bench/README.md); see Sizing.',
    { default: 100 },
  ),
  fullRetryAfterSeconds: setting(
    'SFU_FULL_RETRY_AFTER_SECONDS',
    read.int(1, 600),
    'Retry-After of a WHEP request refused because the SFU is full.',
    { default: 5 },
  ),
  nodeId: setting(
    'SFU_NODE_ID',
    read.string(64).regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, ".", "_" and "-" only'),
    'This node’s id in the control plane’s media directory (grants and WHIP/WHEP URLs name it). Default: hostname-pid.',
  ),
  workers: setting(
    'SFU_WORKERS',
    read.int(1, 256),
    'Media worker processes on this machine, each a node of its own in the media directory (node id SFU_NODE_ID-w<i>, HTTP port SFU_PORT+i, its share of ICE_PORT_RANGE), restarted when one dies; a room spans them through relays. Default: the number of cores with CONTROL_URL and INTERNAL_SECRET (the control plane places sessions on workers), otherwise 1.',
  ),
  relayHost: setting(
    'SFU_RELAY_HOST',
    read.string(64).regex(/^[0-9a-fA-F:.]+$/, 'an IP address'),
    'The address this node’s relay sockets bind to and other nodes send relayed media to (a relay feeds one room’s viewers on another node or worker from its origin; needs INTERNAL_SECRET). Use a private address other nodes reach; UDP, ports chosen by the OS.',
    { default: '127.0.0.1' },
  ),
  advertisedUrl: setting(
    'SFU_ADVERTISED_URL',
    read.url(),
    'Base URL the control plane reaches this node on (WHIP/WHEP forwarding, admin calls), reported with its load. Default: the URL it listens on.',
  ),
  reportIntervalSeconds: setting(
    'SFU_REPORT_INTERVAL_SECONDS',
    read.int(0, 300),
    'With CONTROL_URL: how often this node reports its load, rooms and draining state to the control plane (signed with INTERNAL_SECRET); 0: never (the embedded SFU does not report).',
    { default: 5 },
  ),
  drainDeadlineSeconds: setting(
    'SFU_DRAIN_DEADLINE_SECONDS',
    read.int(0, 86_400),
    'A node drained by SIGUSR2 (or POST /api/admin/drain without deadlineSeconds) exits at the latest this long after; 0: only when its last session ends.',
    { default: 3600 },
  ),
  maxSdpBytes: setting('MAX_SDP_BYTES', read.int(1024, 1024 * 1024), 'Largest SDP offer or ICE fragment accepted.', {
    default: 64 * 1024,
  }),
  rateLimitPerMinute: setting(
    'SFU_RATE_LIMIT_PER_MINUTE',
    read.int(1, 1_000_000),
    'WHIP/WHEP session requests per minute per client IP.',
    { default: 120 },
  ),
  trustProxy: setting(
    'SFU_TRUST_PROXY',
    read.trustProxy(),
    "Which proxies to believe about a WHIP/WHEP client's address (the per-address rate limit): false (none), a hop count, or addresses/CIDRs: the control plane's address when it forwards WHIP/WHEP here. The embedded SFU is told to trust loopback (its control plane) only. `true` is refused.",
    { default: false as TrustProxy },
  ),
  iceAddresses: setting(
    'ICE_ADDRESSES',
    read.list(),
    'Extra local addresses to offer as ICE host candidates (e.g. 127.0.0.1 for same-machine tests).',
    { default: [] as string[] },
  ),
  iceOnlyAddresses: setting(
    'ICE_ONLY_ADDRESSES',
    read.bool(),
    'Offer only ICE_ADDRESSES as host candidates, not every interface’s address.',
    { default: false },
  ),
  icePortRange: setting(
    'ICE_PORT_RANGE',
    portRange(),
    'UDP ports for media (open them in the firewall), e.g. 40000-40999.',
  ),
  stunUrls: setting(
    'STUN_URLS',
    read.list(),
    'STUN servers announced in Link headers to sessions admitted without a grant (a grant carries its own ICE servers).',
    { default: [] as string[] },
  ),
  turnUrls: setting(
    'TURN_URLS',
    read.list(),
    'Standalone SFU only: TURN servers announced in Link headers, with credentials minted from TURN_SECRET.',
    { default: [] as string[] },
  ),
  turnSecret: setting(
    'TURN_SECRET',
    read.string(),
    "Standalone SFU only (no CONTROL_URL, JWKS_URL or JWKS; with ROOM_TOKENS, AUTH_TOKEN or JWT_SECRET): coturn's static-auth-secret, to mint those credentials. Refused at start otherwise: with grants the control plane mints TURN credentials into each grant.",
    { secret: true },
  ),
  turnTtlSeconds: setting('TURN_TTL_SECONDS', read.int(60, 172_800), 'Lifetime of those TURN credentials.', {
    default: 3600,
  }),
  disconnectGraceSeconds: setting(
    'ICE_DISCONNECT_GRACE_SECONDS',
    read.int(0, 300),
    'How long a peer may stay ICE-disconnected before its session is closed.',
    { default: 10 },
  ),
  connectTimeoutSeconds: setting(
    'ICE_CONNECT_TIMEOUT_SECONDS',
    read.int(5, 600),
    'A session that never connects is closed after this long.',
    { default: 30 },
  ),
  keyframeIntervalMs: setting(
    'PLI_THROTTLE_MS',
    read.int(0, 10_000),
    'At most one keyframe request (PLI) per publisher stream in this many milliseconds (a joining viewer waits at most this long for its request).',
    { default: 250 },
  ),
  publisherMaxBitrate: setting(
    'PUBLISHER_MAX_BITRATE',
    read.int(100_000, 100_000_000),
    'Bits per second the SFU tells publishers they may send (REMB), all simulcast layers together.',
    { default: 6_000_000 },
  ),
  nackCacheSize: setting(
    'NACK_CACHE_PACKETS',
    read.int(64, 8192),
    'Packets per video track kept to answer NACKs (retransmissions).',
    { default: 512 },
  ),
  recordingsDir: setting(
    'RECORDINGS_DIR',
    read.string(4096),
    'Where the SFU writes recordings of broadcasts (<id>.webm, and <id>.json while an upload to S3 is due). A separate SFU host needs S3 (or storage shared with the control plane) for replays to play.',
    { default: './data/recordings' },
  ),
  publisherGraceSeconds: setting(
    'PUBLISHER_GRACE_SECONDS',
    read.int(0, 600),
    'A publisher whose transport drops (reload, network) may come back this long with a grant for the same recording and continue it; after it (or at once on a WHIP DELETE, the streamer’s Stop) the recording is finalised.',
    { default: 30 },
  ),
  otelEndpoint: setting('OTEL_EXPORTER_OTLP_ENDPOINT', read.url(), 'OTLP/HTTP endpoint; tracing is on when set.'),
  otelServiceName: setting(
    'OTEL_SERVICE_NAME',
    read.string(100),
    'Service name in traces (the embedded SFU always uses the default).',
    { default: 'fusionflow-sfu' },
  ),
  /** Recordings in S3 (uploaded when final, local file deleted once the object is confirmed). */
  ...objectStoreSettings,
};

export type SfuConfig = ConfigOf<typeof sfuSettings>;

export function loadSfuConfig(env: Record<string, string | undefined>): SfuConfig {
  const config = loadConfig(sfuSettings, { env, file: env.CONFIG_FILE });
  // All S3 settings or none: a half-configured store is refused at start, not at the first upload.
  objectStoreConfigOf(config);
  return config;
}

/** A complete config for tests: defaults with overrides, loopback ICE only. */
export function testSfuConfig(overrides: Partial<SfuConfig> = {}): SfuConfig {
  return Object.freeze({
    ...loadConfig(sfuSettings, { env: {} }),
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    port: 0,
    iceAddresses: ['127.0.0.1'],
    iceOnlyAddresses: true,
    ...overrides,
  }) as SfuConfig;
}
