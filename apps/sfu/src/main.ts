import { hostname } from 'node:os';
import {
  createLogger,
  createMetricsRegistry,
  Lifecycle,
  type Logger,
  MemoryRateLimiter,
  ObjectStore,
  objectStoreConfigOf,
} from '@fusionflow/kit';
import { asRoomId, type RecordingReport, type SfuDrainResponse, type SfuNodeReport } from '@fusionflow/protocol';
import { Authorizer } from './auth/authorizer.js';
import { GrantRevocations } from './auth/grant-revocations.js';
import type { SfuConfig } from './config.js';
import { ControlPlaneClient, type FetchLike } from './control/control-plane-client.js';
import { discardEvents, type EventSink } from './control/event-sink.js';
import { NodeDrain } from './control/node-drain.js';
import { NodeReporter } from './control/node-reporter.js';
import { registerAdminRoutes } from './http/admin-routes.js';
import { createSfuHttpApp, type SfuHttpApp } from './http/http-app.js';
import { iceServerLinks, ownIceServers } from './http/ice-links.js';
import { registerRelayRoutes } from './http/relay-routes.js';
import { registerSessionRoutes } from './http/session-routes.js';
import { SfuMetrics } from './metrics.js';
import { guardDtlsRetransmissions } from './peer/dtls-retransmissions.js';
import { BroadcastRecordings } from './recording/broadcast-recordings.js';
import { RecordingUploader } from './recording/recording-uploader.js';
import { RoomManager } from './room/room-manager.js';
import { ViewerBudget } from './room/viewer-budget.js';

export interface Sfu {
  readonly config: SfuConfig;
  readonly app: SfuHttpApp;
  readonly rooms: RoomManager;
  /** Viewers admitted over all rooms, against `SFU_MAX_VIEWERS`. */
  readonly viewerBudget: ViewerBudget;
  /** Recordings in progress. */
  readonly recordings: BroadcastRecordings;
  readonly auth: Authorizer;
  readonly logger: Logger;
  /** This node's id in the control plane's media directory (SFU_NODE_ID). */
  readonly nodeId: string;
  /** Draining (POST /api/admin/drain, SIGUSR2): its `done` tells the owner to close the node. */
  readonly drain: NodeDrain;
  /** Start draining (SIGUSR2, POST /api/admin/drain); without a deadline, SFU_DRAIN_DEADLINE_SECONDS. */
  startDrain(deadlineSeconds?: number): SfuDrainResponse;
  /** What this node reports to the control plane (also when it does not report). */
  nodeReport(): SfuNodeReport;
  /** Start listening; resolves to the base URL (http://127.0.0.1:8090). */
  listen(): Promise<string>;
  /** Close every room and session, then the HTTP server and the event client. Idempotent. */
  close(reason?: string): Promise<void>;
}

export interface SfuOptions {
  logger?: Logger;
  /** Events go here instead of the control plane (tests). */
  events?: EventSink;
  /** Recording reports go here instead of the control plane (tests). */
  recordingReports?: (report: RecordingReport) => void;
  fetch?: FetchLike;
}

/**
 * TURN_SECRET mints relay access, so only a standalone SFU may hold it. An SFU that executes grants
 * (CONTROL_URL, JWKS_URL or JWKS) announces the credentials the control plane put in each grant;
 * and an SFU without any authentication would hand TURN credentials to anyone who asks.
 */
function checkTurnSecret(config: SfuConfig): void {
  if (!config.turnSecret) return;
  if (config.controlUrl || config.jwksUrl || config.jwks) {
    throw new Error(
      'TURN_SECRET is for a standalone SFU only: with grants (CONTROL_URL, JWKS_URL or JWKS) the control plane mints TURN credentials into each grant; remove TURN_SECRET from this SFU',
    );
  }
  if (Object.keys(config.roomTokens ?? {}).length === 0 && !config.authToken && !config.jwtSecret) {
    throw new Error(
      'TURN_SECRET without authentication would hand TURN credentials to anyone; set ROOM_TOKENS, AUTH_TOKEN or JWT_SECRET, or remove TURN_SECRET',
    );
  }
}

/** A node id when SFU_NODE_ID is unset: the machine's name and the process id. */
function defaultNodeId(): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9_.-]/g, '-')
    .slice(0, 48);
  return `${host || 'sfu'}-${process.pid}`;
}

/** The one place that wires the SFU together. */
export async function createSfu(config: SfuConfig, options: SfuOptions = {}): Promise<Sfu> {
  const logger = options.logger ?? createLogger({ level: config.logLevel, name: 'sfu' });
  if (config.controlUrl && !config.internalSecret) {
    throw new Error('INTERNAL_SECRET is required with CONTROL_URL (events and admin calls are signed with it)');
  }
  checkTurnSecret(config);
  // Before the first peer: werift's DTLS must survive a peer that answers every copy of a retransmitted flight.
  guardDtlsRetransmissions();
  const lifecycle = new Lifecycle(logger);
  try {
    const control =
      config.controlUrl && config.internalSecret
        ? new ControlPlaneClient({
            baseUrl: config.controlUrl,
            secret: config.internalSecret,
            logger: logger.child({ module: 'control' }),
            ...(options.fetch ? { fetch: options.fetch } : {}),
          })
        : undefined;
    const events = options.events ?? control ?? discardEvents;
    lifecycle.add('events', () => events.close());

    const registry = createMetricsRegistry();
    const metrics = new SfuMetrics(registry);
    const revocations = new GrantRevocations();
    const auth = new Authorizer({
      roomTokens: config.roomTokens,
      authToken: config.authToken,
      jwtSecret: config.jwtSecret,
      jwksUrl:
        config.jwksUrl ??
        (config.controlUrl ? new URL('/.well-known/jwks.json', config.controlUrl).toString() : undefined),
      jwks: config.jwks,
      admitStreamKey: control ? (room, key) => control.admitStreamKey(room, key) : undefined,
      revocations,
      logger: logger.child({ module: 'auth' }),
    });
    if (config.turnSecret) {
      logger.warn(
        'TURN_SECRET is set: this standalone SFU mints TURN relay credentials for every client its tokens admit (with a control plane, credentials come in grants instead)',
      );
    }
    if (auth.open) {
      logger.warn(
        'no authentication configured: anyone can publish and play (set CONTROL_URL, ROOM_TOKENS, AUTH_TOKEN or JWT_SECRET)',
      );
    }

    const viewerBudget = new ViewerBudget({
      max: config.maxViewers,
      retryAfterSeconds: config.fullRetryAfterSeconds,
      metrics: metrics.viewerBudget,
    });
    const reportRecording =
      options.recordingReports ??
      (control
        ? (report: RecordingReport) => control.reportRecording(report)
        : (report: RecordingReport) =>
            logger.info({ recording: report.id, status: report.status }, 'recording (no control plane to tell)'));
    // With S3: finished recordings move to the bucket (the local file is deleted once the object is confirmed).
    const store = objectStoreConfigOf(config);
    const uploader = store
      ? new RecordingUploader({
          store: new ObjectStore(store, { logger: logger.child({ module: 'object-store' }) }),
          dir: config.recordingsDir,
          logger: logger.child({ module: 'uploader' }),
          onUploaded: reportRecording,
        })
      : undefined;
    if (uploader) {
      lifecycle.add('uploader', () => uploader.close());
      uploader.start().catch((err: unknown) => logger.error({ err }, 'recordings left for upload could not be read'));
    }
    const recordings = new BroadcastRecordings({
      dir: config.recordingsDir,
      graceMs: config.publisherGraceSeconds * 1000,
      logger: logger.child({ module: 'recordings' }),
      report: reportRecording,
      ...(uploader
        ? {
            onReady: (report: RecordingReport) => {
              uploader.submit(report).catch((err: unknown) => logger.error({ err }, 'recording not queued for upload'));
            },
          }
        : {}),
    });
    // After the rooms (LIFO): publishers end with `shutdown`, then every recording is finalised.
    lifecycle.add('recordings', () => recordings.close());
    const nodeId = config.nodeId ?? defaultNodeId();
    const rooms = new RoomManager({
      network: {
        iceAddresses: config.iceAddresses,
        iceOnlyAddresses: config.iceOnlyAddresses,
        icePortRange: config.icePortRange,
      },
      timings: {
        disconnectGraceMs: config.disconnectGraceSeconds * 1000,
        connectTimeoutMs: config.connectTimeoutSeconds * 1000,
      },
      maxSubscribers: config.maxSubscribersPerRoom,
      viewerBudget,
      nackCacheSize: config.nackCacheSize,
      publisherMaxBitrate: config.publisherMaxBitrate,
      pliThrottleMs: config.keyframeIntervalMs,
      metrics,
      events,
      recordings,
      ...(config.internalSecret
        ? {
            relays: {
              nodeId,
              host: config.relayHost,
              secret: config.internalSecret,
              nackCacheSize: config.nackCacheSize,
              pliThrottleMs: config.keyframeIntervalMs,
            },
          }
        : {}),
      logger: logger.child({ module: 'rooms' }),
    });

    const app = await createSfuHttpApp({
      logger,
      maxSdpBytes: config.maxSdpBytes,
      trustProxy: config.trustProxy,
      corsOrigins: config.corsOrigins,
      logRequests: config.logRequests,
    });
    lifecycle.add('http', () => app.close());
    // Sessions close before the HTTP server so their event streams end cleanly.
    lifecycle.add('rooms', (reason) => rooms.close(reason === 'SIGTERM' || reason === 'SIGINT' ? 'shutdown' : reason));
    const drain = new NodeDrain({
      sessions: () => rooms.sessionCount,
      retryAfterSeconds: config.fullRetryAfterSeconds,
      logger: logger.child({ module: 'drain' }),
    });
    lifecycle.add('drain', () => drain.close());
    const snapshot = (): Omit<SfuNodeReport, 'nodeId' | 'url' | 'sentAt'> => {
      const list = rooms.list();
      const viewers = list.reduce((n, r) => n + r.subscribers.length, 0);
      const publishers = list.reduce((n, r) => n + (r.publisher ? 1 : 0), 0);
      return {
        draining: drain.draining,
        capacity: { maxViewers: config.maxViewers },
        load: { viewers, publishers, sessions: rooms.sessionCount },
        rooms: list.map((r) => {
          const relayFrom = rooms.room(r.room)?.relayFrom;
          return {
            roomId: asRoomId(r.room),
            hasPublisher: r.publisher !== null,
            viewers: r.subscribers.length,
            ...(relayFrom ? { relayFrom } : {}),
          };
        }),
      };
    };
    let reporter: NodeReporter | undefined;
    let listenUrl: string | undefined;
    // The control plane hears of a drain at once (its placement stops sending sessions here).
    const startDrain = (deadlineSeconds?: number): SfuDrainResponse => {
      const status = drain.start(deadlineSeconds ?? config.drainDeadlineSeconds);
      void reporter?.reportNow();
      return status;
    };
    const limiter = new MemoryRateLimiter(config.rateLimitPerMinute, 60_000);
    lifecycle.add('rate limiter', () => limiter.close());

    const quiet = { logLevel: logger.level === 'silent' ? 'silent' : 'warn' } as const;
    app.get('/healthz', quiet, async () => ({ status: 'ok', rooms: rooms.roomCount, sessions: rooms.sessionCount }));
    app.get('/metrics', quiet, async (_request, reply) => {
      reply.header('content-type', registry.contentType);
      return registry.metrics();
    });
    registerSessionRoutes(app, {
      rooms,
      auth,
      limiter,
      drain,
      iceLinks: (admission, sessionId) =>
        iceServerLinks(admission.iceServers ?? ownIceServers(config, admission.userId ?? sessionId)),
    });
    if (config.internalSecret) {
      registerRelayRoutes(app, { rooms, secret: config.internalSecret, host: config.relayHost });
      registerAdminRoutes(app, {
        rooms,
        secret: config.internalSecret,
        revocations,
        drain: startDrain,
        network: {
          iceAddresses: config.iceAddresses,
          iceOnlyAddresses: config.iceOnlyAddresses,
          icePortRange: config.icePortRange,
        },
      });
    }
    await app.ready();

    return {
      config,
      app,
      rooms,
      viewerBudget,
      recordings,
      auth,
      logger,
      nodeId,
      drain,
      startDrain,
      nodeReport: () => ({
        nodeId,
        url: config.advertisedUrl?.replace(/\/$/, '') ?? listenUrl ?? '',
        ...snapshot(),
        sentAt: new Date().toISOString(),
      }),
      listen: async () => {
        await app.listen({ host: config.host, port: config.port });
        const address = app.server.address();
        const port = typeof address === 'object' && address ? address.port : config.port;
        const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
        listenUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
        // With a control plane: report this node (its URL, load, rooms, draining) to its media directory.
        const wildcard = config.host === '0.0.0.0' || config.host === '::';
        const reports = config.controlUrl && config.internalSecret && config.reportIntervalSeconds > 0;
        if (reports && wildcard && !config.advertisedUrl && !reporter) {
          logger.warn(
            'SFU_HOST listens on every interface, so this node cannot tell the control plane where to reach it: set SFU_ADVERTISED_URL to report it (it does not report meanwhile)',
          );
        } else if (reports && config.controlUrl && config.internalSecret && !reporter) {
          const started = new NodeReporter({
            controlUrl: config.controlUrl,
            secret: config.internalSecret,
            nodeId,
            url: config.advertisedUrl?.replace(/\/$/, '') ?? listenUrl,
            intervalMs: config.reportIntervalSeconds * 1000,
            snapshot,
            logger: logger.child({ module: 'node-reporter' }),
            ...(options.fetch ? { fetch: options.fetch } : {}),
          });
          reporter = started;
          lifecycle.add('node reporter', () => started.close());
          started.start();
        }
        return listenUrl;
      },
      close: (reason = 'shutdown') => lifecycle.close(reason),
    };
  } catch (err) {
    await lifecycle.close('start-up failed');
    throw err;
  }
}
