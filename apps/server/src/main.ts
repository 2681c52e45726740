import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, createMetricsRegistry, Lifecycle, type Logger, MemoryRateLimiter } from '@fusionflow/kit';
import type { ServerConfig } from './config.js';
import { type DatabaseHandle, migrateToLatest, openDatabase } from './db/database.js';
import { getOrCreateServerKey } from './db/server-keys.js';
import { registerHealthRoutes } from './http/health-routes.js';
import { createHttpApp, type HttpApp } from './http/http-app.js';
import { registerWebApp } from './http/web-app.js';
import { AccessTokens } from './modules/identity/access-tokens.js';
import { createAuthGuard } from './modules/identity/auth-guard.js';
import { type DemoAccount, ensureDemoAccounts } from './modules/identity/demo-accounts.js';
import { registerIdentityRoutes } from './modules/identity/identity-routes.js';
import { IdentityService } from './modules/identity/identity-service.js';
import { PasswordHasher } from './modules/identity/password-hasher.js';
import { registerLiveRoutes } from './modules/live/live-routes.js';
import { LiveService } from './modules/live/live-service.js';
import { SfuAdminClient } from './modules/live/sfu-client.js';
import { EmbeddedSfu } from './modules/live/sfu-process.js';
import { GrantService } from './modules/media/grant-service.js';
import { loadGrantSigningKey } from './modules/media/grant-signing-key.js';
import { IceServerIssuer } from './modules/media/ice-server-issuer.js';
import { registerMediaRoutes } from './modules/media/media-routes.js';
import { registerRoomRoutes } from './modules/rooms/room-routes.js';
import { RoomService } from './modules/rooms/room-service.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The server package's version (src/ and dist/ both sit one level under the package). */
export const VERSION: string = JSON.parse(readFileSync(join(here, '../package.json'), 'utf8')).version;
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
    live: LiveService;
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
  logger?: Logger;
  /** The environment the embedded SFU reads its own settings from (bin.ts passes process.env). */
  env?: Record<string, string | undefined>;
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
        dataDir: join(config.dataDir, 'pglite'),
        poolSize: config.databasePoolSize,
      }));
    if (!options.database) lifecycle.add('database', () => database.close());
    await migrateToLatest(database, logger.child({ module: 'db' }));
    const { db } = database;

    const metrics = createMetricsRegistry();
    const app = await createHttpApp({
      logger,
      metrics,
      bodyLimitBytes: config.bodyLimitBytes,
      trustProxy: config.trustProxy,
      corsOrigins: config.corsOrigins,
      rateLimitPerMinute: config.rateLimitPerMinute,
      version: VERSION,
    });
    lifecycle.add('http', () => app.close());
    registerHealthRoutes(app, { metrics, ready: database.ping });

    // identity
    const hasher = new PasswordHasher(config.passwordHashCost);
    const accessSecret =
      config.accessTokenSecret ??
      (await getOrCreateServerKey(db, 'access_token_secret', () => randomBytes(32).toString('base64url')));
    const accessTokens = new AccessTokens(accessSecret, config.accessTokenTtlSeconds);
    const guard = createAuthGuard(accessTokens);
    const loginIpLimiter = new MemoryRateLimiter(config.loginRatePerIpPerMinute, 60_000);
    const loginAccountLimiter = new MemoryRateLimiter(config.loginFailuresPerAccount, 15 * 60_000);
    lifecycle.add('login limiters', () => {
      loginIpLimiter.close();
      loginAccountLimiter.close();
    });
    const identity = new IdentityService({
      db,
      hasher,
      accessTokens,
      refreshTokenTtlDays: config.refreshTokenTtlDays,
      refreshReuseGraceSeconds: config.refreshReuseGraceSeconds,
      loginIpLimiter,
      loginAccountLimiter,
      logger: logger.child({ module: 'identity' }),
    });
    registerIdentityRoutes(app, identity, guard);
    const demo =
      config.demoAccounts === 'true' || (config.demoAccounts === 'auto' && database.kind === 'pglite')
        ? await ensureDemoAccounts(db, hasher)
        : [];

    // rooms
    const rooms = new RoomService(db, logger.child({ module: 'rooms' }));
    registerRoomRoutes(app, rooms, guard);

    // media plane: grants and ICE servers
    const ice = new IceServerIssuer({
      stunUrls: config.stunUrls,
      turnUrls: config.turnUrls,
      turnSecret: config.turnSecret,
      ttlSeconds: config.turnTtlSeconds,
    });
    const grants = new GrantService({
      rooms,
      key: await loadGrantSigningKey(db, config.grantPrivateKey),
      ice,
      ttlSeconds: config.grantTtlSeconds,
      logger: logger.child({ module: 'media' }),
    });
    registerMediaRoutes(app, { grants, ice, guard, publicUrl: config.publicUrl });

    // live streaming: the SFU (external or embedded), its events, stream keys, WHIP/WHEP forwarding
    const sfuSecret =
      config.sfuInternalSecret ??
      (await getOrCreateServerKey(db, 'sfu_internal_secret', () => randomBytes(32).toString('base64url')));
    let embedded: EmbeddedSfu | undefined;
    const sfuUrl = () => config.sfuUrl?.replace(/\/$/, '') ?? embedded?.url;
    const sfu = new SfuAdminClient({ url: sfuUrl, secret: sfuSecret, logger: logger.child({ module: 'live' }) });
    const live = new LiveService({
      db,
      rooms,
      grants,
      sfu,
      publisherGraceSeconds: config.publisherGraceSeconds,
      logger: logger.child({ module: 'live' }),
    });
    lifecycle.add('live', () => live.close());
    rooms.onEnded = (id) => live.roomEnded(id);
    await registerLiveRoutes(app, { live, guard, secret: sfuSecret, publicUrl: config.publicUrl, sfuUrl });

    await registerWebApp(app, config.webDir ?? DEFAULT_WEB_DIR);
    await app.ready();

    return {
      config,
      app,
      database,
      logger,
      services: { identity, rooms, grants, ice, live },
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
            logger: logger.child({ module: 'live' }),
          });
          const started = embedded;
          lifecycle.add('sfu', () => started.close());
          await started.start();
        }
        void live.reconcile().catch((err: unknown) => logger.warn({ err }, 'could not reconcile live rooms'));
        return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
      },
      close: (reason = 'close') => lifecycle.close(reason),
    };
  } catch (err) {
    await lifecycle.close('start-up failed');
    throw err;
  }
}
