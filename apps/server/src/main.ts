import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConcurrencyLimit,
  createLogger,
  createMetricsRegistry,
  Lifecycle,
  type Logger,
  MemoryRateLimiter,
  ObjectStore,
  objectStoreConfigOf,
} from '@fusionflow/kit';
import { REPLAY_PLAYBACK_TTL_SECONDS, RecordingFormat } from '@fusionflow/protocol';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { demoConvenienceOn, isLoopbackHost, type ServerConfig } from './config.js';
import { pgliteDir } from './db/data-dirs.js';
import { type DatabaseHandle, migrateToLatest, openDatabase } from './db/database.js';
import { getOrCreateServerKey } from './db/server-keys.js';
import { registerHealthRoutes, type ScrapeTargets } from './http/health-routes.js';
import { createHttpApp, type HttpApp } from './http/http-app.js';
import { registerWebApp } from './http/web-app.js';
import { registerChannelRoutes } from './modules/channels/channel-routes.js';
import { ChannelService } from './modules/channels/channel-service.js';
import { ChatModeration } from './modules/chat/chat-moderation.js';
import { ChatRules } from './modules/chat/chat-rules.js';
import { ChatService } from './modules/chat/chat-service.js';
import { ChatStore } from './modules/chat/chat-store.js';
import { engineFromConfig } from './modules/chat/engine-from-config.js';
import { Translator } from './modules/chat/translator.js';
import { registerDiagnosticsRoutes } from './modules/diagnostics/diagnostics-routes.js';
import { Doctor } from './modules/diagnostics/doctor.js';
import { AuditLog } from './modules/governance/audit-log.js';
import { registerGovernanceRoutes } from './modules/governance/governance-routes.js';
import { LiveNow } from './modules/governance/live-now.js';
import { ReportService } from './modules/governance/report-service.js';
import { RoomModerators } from './modules/governance/room-moderators.js';
import { StudioService } from './modules/governance/studio-service.js';
import { SuspensionService } from './modules/governance/suspension-service.js';
import { UserDirectory } from './modules/governance/user-directory.js';
import { AccessTokens } from './modules/identity/access-tokens.js';
import { createAuthGuard } from './modules/identity/auth-guard.js';
import { type DemoAccount, ensureDemoAccounts } from './modules/identity/demo-accounts.js';
import { registerIdentityRoutes } from './modules/identity/identity-routes.js';
import { IdentityService } from './modules/identity/identity-service.js';
import { LoginThrottle } from './modules/identity/login-throttle.js';
import { SmtpMailer } from './modules/identity/mailer.js';
import { PasswordHasher } from './modules/identity/password-hasher.js';
import { PasswordResets } from './modules/identity/password-resets.js';
import { registerPasswordRoutes } from './modules/identity/password-routes.js';
import { RedisSessionRevocations } from './modules/identity/redis-session-revocations.js';
import { MemorySessionRevocations, type SessionRevocations } from './modules/identity/session-revocations.js';
import { registerLiveRoutes } from './modules/live/live-routes.js';
import { LiveService } from './modules/live/live-service.js';
import { SfuAdminClient } from './modules/live/sfu-client.js';
import { EmbeddedSfu } from './modules/live/sfu-process.js';
import { ViewerMetrics } from './modules/live/viewer-metrics.js';
import { GrantService } from './modules/media/grant-service.js';
import { loadGrantSigningKey } from './modules/media/grant-signing-key.js';
import { IceServerIssuer } from './modules/media/ice-server-issuer.js';
import { InMemoryMediaDirectory } from './modules/media/in-memory-media-directory.js';
import type { MediaDirectory } from './modules/media/media-directory.js';
import { registerMediaNodeRoutes } from './modules/media/media-node-routes.js';
import { MediaReportMetrics } from './modules/media/media-report-metrics.js';
import { MEDIA_REPORTS_PER_MINUTE, registerMediaReportRoutes } from './modules/media/media-report-routes.js';
import { registerMediaRoutes } from './modules/media/media-routes.js';
import { Placement } from './modules/media/placement.js';
import { RedisMediaDirectory } from './modules/media/redis-media-directory.js';
import { RealtimeGateway } from './modules/realtime/realtime-gateway.js';
import { RedisRoomStateStore } from './modules/realtime/redis-room-state-store.js';
import { RoomPresence } from './modules/realtime/room-presence.js';
import { MemoryRoomStateStore, type RoomStateStore } from './modules/realtime/room-state-store.js';
import { MediaTokens } from './modules/replays/media-token.js';
import { RecordingFiles } from './modules/replays/recording-files.js';
import { RecordingService } from './modules/replays/recording-service.js';
import { registerReplayRoutes } from './modules/replays/replay-routes.js';
import { ReplayService } from './modules/replays/replay-service.js';
import { ReplaySweep } from './modules/replays/replay-sweep.js';
import { registerRoomRoutes } from './modules/rooms/room-routes.js';
import { RoomService } from './modules/rooms/room-service.js';
import { CallMetrics } from './modules/signaling/call-metrics.js';
import { MediaStateDrops } from './modules/signaling/media-state-drops.js';
import { PresenceCallParticipants } from './modules/signaling/presence-call-participants.js';
import { SignalingService } from './modules/signaling/signaling-service.js';
import { registerSignalingTestHooks } from './modules/signaling/signaling-test-hooks.js';
import { CallBilling } from './modules/wallet/call-billing.js';
import { registerCallSessionRoutes } from './modules/wallet/call-session-routes.js';
import { EarningsService } from './modules/wallet/earnings-service.js';
import { Ledger } from './modules/wallet/ledger.js';
import { LedgerAudit } from './modules/wallet/ledger-audit.js';
import { PayoutService } from './modules/wallet/payout-service.js';
import { createWalletMetrics } from './modules/wallet/wallet-metrics.js';
import { registerWalletRoutes } from './modules/wallet/wallet-routes.js';
import { WalletService } from './modules/wallet/wallet-service.js';
import { registerPlatformMetrics } from './observability/platform-metrics.js';
import { VERSION } from './version.js';

const here = dirname(fileURLToPath(import.meta.url));

export { VERSION } from './version.js';

/** Where the web app's build lands when nothing else is configured. */
const DEFAULT_WEB_DIR = resolve(here, '../../web/dist');

export interface Platform {
  readonly config: ServerConfig;
  readonly app: HttpApp;
  readonly database: DatabaseHandle;
  readonly logger: Logger;
  readonly services: {
    identity: IdentityService;
    rooms: RoomService;
    grants: GrantService;
    ice: IceServerIssuer;
    wallet: WalletService;
    payouts: PayoutService;
    earnings: EarningsService;
    callBilling: CallBilling;
    realtime: RealtimeGateway;
    presence: RoomPresence;
    signaling: SignalingService;
    live: LiveService;
    chat: ChatService;
    translator: Translator;
    doctor: Doctor;
    ledgerAudit: LedgerAudit;
    audit: AuditLog;
    suspensions: SuspensionService;
    replays: ReplayService;
  };
  /** The SFU's base URL (external, or the embedded one once `listen()` started it). */
  sfuUrl(): string | undefined;
  readonly demoAccounts: DemoAccount[];
  /** Start listening; resolves to the base URL (http://127.0.0.1:8080). */
  listen(): Promise<string>;
  /** Close everything the platform opened, children first. Idempotent. */
  close(reason?: string): Promise<void>;
}

export interface PlatformOptions {
  /** An already-open database (tests); the caller keeps ownership and closes it. */
  database?: DatabaseHandle;
  /** Tests only: a shorter billed minute and tick for private calls. */
  callBilling?: { minuteMs?: number; tickMs?: number; sweepMs?: number };
  logger?: Logger;
  /** The environment the embedded SFU reads its own settings from (bin.ts passes process.env). */
  env?: Record<string, string | undefined>;
  /** Extra trusted CA for the doctor's TLS checks (tests). */
  tlsCa?: string;
  /** Tests only: how long database totals in /metrics are reused (30 s). */
  metricsTotalsTtlMs?: number;
}

/** The one place that wires the control plane's modules together. */
export async function createPlatform(config: ServerConfig, options: PlatformOptions = {}): Promise<Platform> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'server' });
  const lifecycle = new Lifecycle(logger);
  try {
    const database =
      options.database ??
      (await openDatabase({
        url: config.databaseUrl,
        dataDir: pgliteDir(config.dataDir),
        poolSize: config.databasePoolSize,
      }));
    if (!options.database) lifecycle.add('database', () => database.close());
    await migrateToLatest(database, logger.child({ module: 'db' }));
    const { db } = database;

    // Redis (optional): shared call state and Socket.IO rooms across processes.
    let redis: Redis | undefined;
    if (config.redisUrl) {
      const client = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 3 });
      client.on('error', (err) => logger.warn({ err: err.message }, 'redis connection error'));
      await client.connect();
      redis = client;
      lifecycle.add('redis', () => client.quit());
    }

    const metrics = createMetricsRegistry();
    const app = await createHttpApp({
      logger,
      metrics,
      bodyLimitBytes: config.bodyLimitBytes,
      trustProxy: config.trustProxy,
      corsOrigins: config.corsOrigins,
      rateLimitPerMinute: config.rateLimitPerMinute,
      logRequests: config.logRequests,
      version: VERSION,
    });
    lifecycle.add('http', () => app.close());
    // Filled in once the SFU is known (below).
    let scrapeTargets: () => ScrapeTargets[] | Promise<ScrapeTargets[]> = () => [];
    let embeddedSfu: () => EmbeddedSfu | undefined = () => undefined;
    registerHealthRoutes(app, {
      metrics,
      ready: async () => {
        await database.ping();
        await redis?.ping();
      },
      targets: () => scrapeTargets(),
      sfu: () => embeddedSfu()?.status,
    });

    // identity
    const hasher = new PasswordHasher(config.passwordHashCost);
    const accessSecret =
      config.accessTokenSecret ??
      (await getOrCreateServerKey(db, 'access_token_secret', () => randomBytes(32).toString('base64url')));
    // Signed-out sessions: shared by every process on Redis, so a logout anywhere ends the token everywhere.
    const revocations: SessionRevocations = redis
      ? new RedisSessionRevocations(redis, config.redisKeyPrefix)
      : new MemorySessionRevocations();
    lifecycle.add('session revocations', () => revocations.close());
    const accessTokens = new AccessTokens(accessSecret, config.accessTokenTtlSeconds, revocations);
    // Moderator and admin tokens are checked against the account as it is now (a demotion bites at once).
    const guard = createAuthGuard(accessTokens, {
      currentRole: async (userId) =>
        (await db.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirst())?.role ?? null,
    });
    // governance: the append-only audit trail every moderator and admin action is written to
    const audit = new AuditLog(db);
    const loginThrottle = new LoginThrottle({
      attemptsPerIpPerMinute: config.loginRatePerIpPerMinute,
      failuresPerAccountPerIp: config.loginFailuresPerAccountPerIp,
      failuresPerIp: config.loginFailuresPerIp,
      delayAfterFailures: config.loginDelayAfterFailures,
      maxDelaySeconds: config.loginDelayMaxSeconds,
    });
    const registrationLimiter = new MemoryRateLimiter(config.registrationsPerIpPerHour, 60 * 60_000);
    lifecycle.add('login and sign-up limits', () => {
      loginThrottle.close();
      registrationLimiter.close();
    });
    const identity = new IdentityService({
      db,
      hasher,
      accessTokens,
      audit,
      refreshTokenTtlDays: config.refreshTokenTtlDays,
      refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
      loginThrottle,
      registrationLimiter,
      hashing: {
        login: new ConcurrencyLimit({
          concurrency: config.loginHashConcurrency,
          maxWaiting: config.passwordHashMaxWaiting,
          busyMessage: 'too many sign-ins at once; try again in a moment',
        }),
        register: new ConcurrencyLimit({
          concurrency: config.registrationHashConcurrency,
          maxWaiting: config.passwordHashMaxWaiting,
          busyMessage: 'too many sign-ups at once; try again in a moment',
        }),
      },
      logger: logger.child({ module: 'identity' }),
    });
    registerIdentityRoutes(app, identity, guard);
    const mailer = config.smtpUrl
      ? new SmtpMailer(config.smtpUrl, config.smtpFrom, logger.child({ module: 'mail' }))
      : undefined;
    if (mailer) lifecycle.add('mail', () => mailer.close());
    const resetLimits = {
      perIp: new MemoryRateLimiter(config.passwordResetsPerHour, 60 * 60_000),
      perEmail: new MemoryRateLimiter(config.passwordResetsPerHour, 60 * 60_000),
    };
    lifecycle.add('password-reset limits', () => {
      resetLimits.perIp.close();
      resetLimits.perEmail.close();
    });
    const passwordResets = new PasswordResets({
      db,
      hasher,
      hashing: new ConcurrencyLimit({
        concurrency: config.registrationHashConcurrency,
        maxWaiting: config.passwordHashMaxWaiting,
        busyMessage: 'too many password changes at once; try again in a moment',
      }),
      identity,
      mailer,
      ttlMinutes: config.passwordResetTtlMinutes,
      ...resetLimits,
      logger: logger.child({ module: 'password-resets' }),
    });
    registerPasswordRoutes(app, {
      identity,
      resets: passwordResets,
      guard,
      // PUBLIC_URL; without it, only a loopback server asked through a loopback name (nobody else
      // can reach it, so nobody can forge its Host header).
      linkOrigin: (request) => {
        if (config.publicUrl) return new URL(config.publicUrl).origin;
        if (!isLoopbackHost(config.host) || !isLoopbackHost(request.hostname)) return undefined;
        return `${request.protocol}://${request.host}`;
      },
    });
    const embeddedDatabase = database.kind === 'pglite';
    const demo = demoConvenienceOn(config.demoAccounts, config, embeddedDatabase)
      ? await ensureDemoAccounts(db, hasher)
      : [];

    // rooms
    const rooms = new RoomService(db, logger.child({ module: 'rooms' }), audit);
    registerRoomRoutes(app, rooms, guard);
    registerChannelRoutes(app, new ChannelService(db, rooms));

    // token economy
    const walletMetrics = createWalletMetrics(metrics);
    const ledger = new Ledger(db, walletMetrics.ledgerLatency);
    const tipLimiter = new MemoryRateLimiter(config.tipsPerMinute, 60_000);
    lifecycle.add('tip limiter', () => tipLimiter.close());
    // chat moderation is asked by the media plane and the wallet too: a room ban refuses grants and tips
    const chatModeration = new ChatModeration(db, { audit });
    const roomModerators = new RoomModerators({ db, rooms, audit });
    const chatRules = new ChatRules({ moderation: chatModeration, maxLength: config.chatMaxLength, roomModerators });
    const wallet = new WalletService({
      db,
      ledger,
      policy: { platformFeePercent: config.platformFeePercent, studioSharePercent: config.studioSharePercent },
      packs: config.tokenPacks,
      devProvider: demoConvenienceOn(config.paymentsDevProvider, config, embeddedDatabase),
      webhookSecret: config.paymentsWebhookSecret,
      webhookToleranceSeconds: config.paymentsWebhookToleranceSeconds,
      tipMaxTokens: config.tipMaxTokens,
      tipLimiter,
      tipRules: chatRules,
      metrics: walletMetrics,
      logger: logger.child({ module: 'wallet' }),
    });
    const payouts = new PayoutService(
      db,
      ledger,
      walletMetrics,
      logger.child({ module: 'wallet' }),
      audit,
      config.payoutSecondApprovalTokens,
    );
    const ledgerAudit = new LedgerAudit({
      db,
      metrics,
      intervalSeconds: config.ledgerAuditIntervalSeconds,
      logger: logger.child({ module: 'wallet' }),
    });
    lifecycle.add('ledger audit', () => ledgerAudit.close());
    const earnings = new EarningsService(db, ledger);
    registerWalletRoutes(app, { wallet, payouts, earnings, guard });

    // media plane: grants and ICE servers
    const ice = new IceServerIssuer({
      stunUrls: config.stunUrls,
      turnUrls: config.turnUrls,
      turnSecret: config.turnSecret,
      ttlSeconds: config.turnTtlSeconds,
    });
    // The media directory (SFU nodes, their load, each live room's origin) and placement on it:
    // shared by every control-plane process on Redis, in memory otherwise.
    const directoryOptions = { ttlMs: config.mediaNodeTtlSeconds * 1000 };
    const mediaDirectory: MediaDirectory = redis
      ? new RedisMediaDirectory(redis, config.redisKeyPrefix, directoryOptions)
      : new InMemoryMediaDirectory(directoryOptions);
    lifecycle.add('media directory', () => mediaDirectory.close());
    const placement = new Placement({
      directory: mediaDirectory,
      retryAfterSeconds: config.mediaFullRetryAfterSeconds,
      originMaxViewers: config.sfuOriginMaxViewers,
      logger: logger.child({ module: 'media' }),
    });
    const recordings = new RecordingService({ db, format: RecordingFormat.parse(config.recordingFormat) });
    const grants = new GrantService({
      rooms,
      placement,
      key: await loadGrantSigningKey(db, config.grantPrivateKey),
      ice,
      ttlSeconds: config.grantTtlSeconds,
      tickets: wallet,
      bans: chatRules,
      recordings,
      logger: logger.child({ module: 'media' }),
    });
    registerMediaRoutes(app, { grants, ice, guard, publicUrl: config.publicUrl });
    // What clients report of their calls and watch sessions (join time, ICE path and failures, freezes).
    const mediaReportLimiter = new MemoryRateLimiter(MEDIA_REPORTS_PER_MINUTE, 60_000);
    lifecycle.add('media report limiter', () => mediaReportLimiter.close());
    registerMediaReportRoutes(app, {
      guard,
      rooms,
      metrics: new MediaReportMetrics(metrics),
      limiter: mediaReportLimiter,
    });

    // real time: the Socket.IO gateway on the HTTP server, room presence, and calls on top of it
    const store: RoomStateStore = redis
      ? new RedisRoomStateStore(redis, config.redisKeyPrefix)
      : new MemoryRoomStateStore();
    const realtime = new RealtimeGateway({
      tokens: accessTokens,
      trustProxy: config.trustProxy,
      maxConnectionsPerUser: config.signalingMaxConnectionsPerUser,
      maxConnectionsPerIp: config.signalingMaxConnectionsPerIp,
      logger: logger.child({ module: 'realtime' }),
      metrics,
      maxMessageBytes: config.signalingMaxMessageBytes,
      messagesPer10s: config.signalingMessagesPer10s,
      pingIntervalMs: config.signalingPingIntervalMs,
      pingTimeoutMs: config.signalingPingTimeoutMs,
      corsOrigins: config.corsOrigins,
    });
    if (redis) {
      const subscriber = redis.duplicate();
      subscriber.on('error', (err) => logger.warn({ err: err.message }, 'redis subscriber error'));
      lifecycle.add('redis subscriber', () => subscriber.quit());
      realtime.io.adapter(createAdapter(redis, subscriber, { key: `${config.redisKeyPrefix}socket.io` }));
    }
    realtime.attach(app.server);
    // Signing out closes the session's connections at once, on whichever process holds them.
    const endSessionConnections = ({ sessionId, message }: { sessionId: string; message?: string }) =>
      realtime.endSession(sessionId, message);
    const stopSessionEvents = identity.on('session-ended', endSessionConnections);
    lifecycle.add('session events', stopSessionEvents);
    const presence = new RoomPresence({
      gateway: realtime,
      store,
      rooms,
      graceSeconds: config.reconnectGraceSeconds,
      logger: logger.child({ module: 'presence' }),
      metrics,
    });
    // Private calls are billed per started minute; the billing also decides who may join a paid call.
    const callBilling = new CallBilling({
      db,
      ledger,
      participants: new PresenceCallParticipants(presence, realtime),
      rooms,
      policy: { platformFeePercent: config.platformFeePercent, studioSharePercent: config.studioSharePercent },
      metrics: walletMetrics,
      logger: logger.child({ module: 'call-billing' }),
      graceMs: config.reconnectGraceSeconds * 1000,
      ...(config.testHooks && config.testCallMinuteSeconds !== 60
        ? { minuteMs: config.testCallMinuteSeconds * 1000 }
        : {}),
      ...options.callBilling,
    });
    const drops = config.testHooks ? new MediaStateDrops(logger.child({ module: 'signaling' })) : undefined;
    const signaling = new SignalingService({
      ...(drops ? { drops } : {}),
      gateway: realtime,
      presence,
      store,
      rooms,
      logger: logger.child({ module: 'signaling' }),
      metrics,
      admit: (room, session) => callBilling.admit(room, session),
      confirm: (room, session, earlier) => callBilling.confirm(room, session, earlier),
    });
    registerCallSessionRoutes(app, { billing: callBilling, guard });
    const callMetrics = new CallMetrics({ presence, metrics });
    // chat: every room kind, translated by the operator's own engine
    const engine = engineFromConfig(config);
    const translator = new Translator({
      ...(engine ? { engine } : {}),
      db,
      timeoutMs: config.translationTimeoutMs,
      breakerFailures: config.translationBreakerFailures,
      breakerCooldownMs: config.translationBreakerCooldownMs,
      cacheEntries: config.translationCacheEntries,
      concurrency: config.translationConcurrency,
      maxQueue: config.translationMaxQueue,
      pairsRefreshMs: 10 * 60_000,
      metrics,
      logger: logger.child({ module: 'translation' }),
    });
    const chat = new ChatService({
      gateway: realtime,
      presence,
      rooms,
      store: new ChatStore(db),
      moderation: chatModeration,
      rules: chatRules,
      translator,
      batchMs: config.chatBatchMs,
      messagesPer10s: config.chatMessagesPer10s,
      tips: wallet,
      tickets: wallet,
      userRole: async (userId) =>
        (await db.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirst())?.role ?? null,
      // `live` is created below with the SFU client; a ban only calls this once the platform runs.
      media: { endUserMedia: (userId, roomId) => live.endUserMedia(userId, roomId) },
      metrics,
      logger: logger.child({ module: 'chat' }),
    });
    // replays: the recordings of broadcasts as viewers watch them (files on the shared disk or in S3)
    const s3 = objectStoreConfigOf(config);
    const recordingStore = s3 ? new ObjectStore(s3, { logger: logger.child({ module: 'replays' }) }) : undefined;
    if (recordingStore) lifecycle.add('recording store', () => recordingStore.close());
    const replays = new ReplayService({
      db,
      files: new RecordingFiles({
        dir: config.recordingsDir ?? join(config.dataDir, 'recordings'),
        store: recordingStore,
        logger: logger.child({ module: 'replays' }),
      }),
      // Media URLs are signed with the sessions' secret (a key derived from it for this purpose only).
      tokens: new MediaTokens({ secret: accessSecret, ttlSeconds: REPLAY_PLAYBACK_TTL_SECONDS }),
      tickets: wallet,
      chat,
      currentRole: async (userId) =>
        (await db.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirst())?.role ?? null,
      retentionDays: config.recordingRetentionDays,
      logger: logger.child({ module: 'replays' }),
    });
    registerReplayRoutes(app, { replays, guard });
    const replaySweep = new ReplaySweep({ replays, logger: logger.child({ module: 'replays' }) });
    lifecycle.add('replay sweep', () => replaySweep.close());
    const stopRoomEvents = rooms.on('status', (room) => presence.roomChanged(room));
    lifecycle.add('realtime', async (reason) => {
      // Intake first (no connection, no queued frame reaches a module that is closing), then the
      // modules (their last broadcasts still go out), then the gateway itself.
      await realtime.stopIntake();
      stopRoomEvents();
      callMetrics.close();
      translator.close();
      await chat.close();
      callBilling.close();
      signaling.close();
      presence.close();
      await realtime.close(reason);
      await store.close();
    });
    if (config.testHooks) {
      logger.warn('TEST_HOOKS is on: /api/test-hooks/* can drop signaling messages. Never run production like this.');
      if (config.testCallMinuteSeconds !== 60) {
        logger.warn(
          { seconds: config.testCallMinuteSeconds },
          'TEST_CALL_MINUTE_SECONDS: private-call minutes are shortened',
        );
      }
      registerSignalingTestHooks(app, {
        drops: drops!,
        store,
        gateway: realtime,
        logger: logger.child({ module: 'signaling' }),
      });
    }
    // live streaming: the SFU (external or embedded), its events, stream keys, WHIP/WHEP forwarding
    const sfuSecret =
      config.sfuInternalSecret ??
      (await getOrCreateServerKey(db, 'sfu_internal_secret', () => randomBytes(32).toString('base64url')));
    let embedded: EmbeddedSfu | undefined;
    embeddedSfu = () => embedded;
    const sfuUrl = () => config.sfuUrl?.replace(/\/$/, '') ?? embedded?.url;
    /** Every reporting SFU node's URL (each worker is one): ending a room or revoking a user reaches them all. */
    const reportingNodes = async () =>
      (await placement.directory.nodes())
        .filter((n) => n.healthy)
        .map((n) => ({ id: n.report.nodeId, url: n.report.url }));
    const sfu = new SfuAdminClient({
      url: sfuUrl,
      nodes: async () => (await reportingNodes()).map((n) => n.url),
      secret: sfuSecret,
      logger: logger.child({ module: 'live' }),
    });
    const viewers = new ViewerMetrics(metrics);
    const live = new LiveService({
      db,
      rooms,
      grants,
      sfu,
      publisherGraceSeconds: config.publisherGraceSeconds,
      viewers,
      logger: logger.child({ module: 'live' }),
    });
    lifecycle.add('live', () => {
      live.close();
      viewers.close();
    });
    // However a live room ends (Stop, a moderator, the publisher's grace period), its SFU room closes.
    const stopLiveEvents = rooms.on('status', async (room) => {
      if (room.kind === 'live' && room.status === 'ended') {
        await live.roomEnded(room.id);
        await placement.roomEnded(room.id);
      }
    });
    lifecycle.add('live room events', () => stopLiveEvents());
    await registerLiveRoutes(app, {
      live,
      guard,
      secret: sfuSecret,
      recordings,
      publicUrl: config.publicUrl,
      sfuUrl,
      viewers,
      nodes: {
        url: (nodeId) => placement.nodeUrl(nodeId),
        // An encoder's WHIP (a stream key, no grant) with no single SFU: placed like a publisher's grant.
        unnamed: async (path) => {
          const m = /^\/api\/(whip\/publish|whep\/play)\/([A-Za-z0-9_-]{1,64})$/.exec(path.split('?')[0]!);
          if (!m) return undefined;
          return placement.route(m[2]!, m[1] === 'whip/publish' ? 'publish' : 'subscribe');
        },
      },
    });
    await registerMediaNodeRoutes(app, { placement, guard, secret: sfuSecret, staticUrl: sfuUrl });

    // Operations: what Prometheus scrapes, and the doctor.
    scrapeTargets = async () => {
      const url = sfuUrl();
      const { host } = url ? new URL(url) : { host: undefined };
      // The one SFU the control plane runs or is told of, and every reporting node (each SFU worker is one).
      const targets: ScrapeTargets[] = host
        ? [{ targets: [host], labels: { node: config.sfuUrl ? host : 'embedded', worker: '0' } }]
        : [];
      for (const n of await reportingNodes()) {
        const nodeHost = new URL(n.url).host;
        if (nodeHost === host) continue;
        const worker = /-w(\d+)$/.exec(n.id)?.[1] ?? '0';
        targets.push({ targets: [nodeHost], labels: { node: n.id.replace(/-w\d+$/, ''), worker } });
      }
      return targets;
    };
    registerPlatformMetrics({
      metrics,
      db,
      ...(options.metricsTotalsTtlMs !== undefined ? { totalsTtlMs: options.metricsTotalsTtlMs } : {}),
      checks: {
        database: () => database.ping(),
        ...(redis ? { redis: async () => void (await redis.ping()) } : {}),
        sfu: async () => {
          const url = sfuUrl();
          if (!url) throw new Error('no SFU');
          const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
          if (!res.ok) throw new Error(`HTTP ${res.status}`);
        },
      },
    });
    const doctor = new Doctor({
      database,
      redis,
      sfu: { url: sfuUrl, embedded: !config.sfuUrl, client: sfu },
      ice,
      turn: { urls: config.turnUrls, realm: config.turnRealm, ttlSeconds: config.turnTtlSeconds },
      translation: {
        engine,
        breakerOpen: () => engine !== undefined && !translator.available,
        timeoutMs: config.translationTimeoutMs,
      },
      ledger: ledgerAudit,
      publicUrl: config.publicUrl,
      ...(options.tlsCa ? { tlsCa: options.tlsCa } : {}),
      storage: objectStoreConfigOf(config),
      intervalSeconds: config.diagnosticsIntervalSeconds,
      metrics,
      logger: logger.child({ module: 'doctor' }),
    });
    lifecycle.add('doctor', () => doctor.close());
    registerDiagnosticsRoutes(app, { doctor, guard });
    const suspensions = new SuspensionService({
      db,
      audit,
      sessions: identity,
      media: live,
      rooms,
      logger: logger.child({ module: 'governance' }),
    });
    const reports = new ReportService({
      db,
      audit,
      chat,
      suspensions,
      perHour: config.reportsPerHour,
      logger: logger.child({ module: 'governance' }),
    });
    const directory = new UserDirectory(db, (userId) => reports.against(userId));
    const liveNow = new LiveNow({
      db,
      members: (roomId) => presence.members(roomId),
      node: () => (config.sfuUrl ? new URL(config.sfuUrl).host : 'embedded'),
    });
    const studios = new StudioService({
      db,
      audit,
      accounts: identity,
      sharePercent: config.studioSharePercent,
    });
    registerGovernanceRoutes(app, {
      guard,
      audit,
      identity,
      directory,
      suspensions,
      roomModerators,
      reports,
      liveNow,
      rooms,
      moderation: chatModeration,
      studios,
    });

    await registerWebApp(app, config.webDir ?? DEFAULT_WEB_DIR);
    await app.ready();

    return {
      config,
      app,
      database,
      logger,
      services: {
        identity,
        rooms,
        grants,
        ice,
        wallet,
        payouts,
        earnings,
        callBilling,
        realtime,
        presence,
        signaling,
        live,
        chat,
        translator,
        doctor,
        ledgerAudit,
        audit,
        suspensions,
        replays,
      },
      sfuUrl,
      demoAccounts: demo,
      listen: async () => {
        await app.listen({ host: config.host, port: config.port });
        const address = app.server.address();
        const port = typeof address === 'object' && address ? address.port : config.port;
        const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
        if (!config.sfuUrl && config.sfuEmbedded && !embedded) {
          const local = ['0.0.0.0', '::', 'localhost'].includes(config.host) ? '127.0.0.1' : config.host;
          embedded = new EmbeddedSfu({
            env: options.env ?? {},
            controlUrl: `http://${local.includes(':') ? `[${local}]` : local}:${port}`,
            secret: sfuSecret,
            jwks: JSON.stringify(grants.jwks()),
            configFile: config.sfuConfigFile,
            recordingsDir: config.recordingsDir ?? join(config.dataDir, 'recordings'),
            logger: logger.child({ module: 'live' }),
          });
          const started = embedded;
          lifecycle.add('sfu', () => started.close());
          await started.start();
        }
        void live.reconcile().catch((err: unknown) => logger.warn({ err }, 'could not reconcile live rooms'));
        ledgerAudit.start();
        doctor.start();
        replaySweep.start();
        return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      },
      close: (reason = 'close') => lifecycle.close(reason),
    };
  } catch (err) {
    await lifecycle.close('start-up failed');
    throw err;
  }
}
