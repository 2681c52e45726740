import { randomUUID } from 'node:crypto';
import fastifyCookie from '@fastify/cookie';
import fastifyCors from '@fastify/cors';
import fastifyHelmet from '@fastify/helmet';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import {
  AppError,
  Counter,
  Histogram,
  LATENCY_BUCKETS,
  type Logger,
  type Registry,
  rateLimited,
  type TrustProxy,
  toErrorResponse,
  trustFunction,
} from '@fusionflow/kit';
import { ErrorCode, PROTOCOL_VERSION } from '@fusionflow/protocol';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';

export type HttpApp = FastifyInstance;

export interface HttpAppOptions {
  logger: Logger;
  metrics: Registry;
  bodyLimitBytes: number;
  /** Which proxies to believe about the client's address (TRUST_PROXY). */
  trustProxy: TrustProxy;
  corsOrigins: readonly string[];
  rateLimitPerMinute: number;
  /** Shown in the OpenAPI description. */
  version: string;
  /** One log line per request and per refusal (LOG_REQUESTS); off, refusals are logged at debug. */
  logRequests?: boolean;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * The control plane's HTTP server with everything every route relies on: schema validation (zod),
 * one error shape `{ error: { code, message } }`, body limits, security headers, a CORS allowlist,
 * per-IP rate limits, request ids in logs and responses, request metrics and the OpenAPI document.
 * Modules add their routes to it; nothing here knows about a module.
 */
export async function createHttpApp(o: HttpAppOptions): Promise<HttpApp> {
  const app = Fastify({
    loggerInstance: o.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: !o.logRequests }),
    bodyLimit: o.bodyLimitBytes,
    // A function, not Fastify's number form: Fastify ignores a bare hop count (fails closed).
    trustProxy: o.trustProxy === false ? false : trustFunction(o.trustProxy),
    // Validated here rather than taken verbatim: a proxy's id is kept only when it looks like one.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { maxParamLength: 200 },
    // A path parameter over that length (or a malformed URL) gets the one error shape too.
    frameworkErrors: (err, _request, reply) => {
      const { status, body, headers } = toErrorResponse(err);
      (reply as FastifyReply).code(status).headers(headers).send(body);
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // JSON is the only body the API takes (the media proxy registers its own parser in its scope).
  app.removeContentTypeParser('text/plain');

  app.setErrorHandler((err, request, reply) => {
    const { status, body, headers } = toErrorResponse(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    else if (o.logRequests) request.log.info({ code: body.error.code, status }, 'request refused');
    else request.log.debug({ code: body.error.code, status }, 'request refused');
    return reply.code(status).headers(headers).send(body);
  });

  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    registers: [o.metrics],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [o.metrics],
  });
  // Clients announce the protocol version they speak; a different one is refused before any work.
  app.addHook('onRequest', async (request) => {
    const spoken = request.headers['x-ff-protocol'];
    if (spoken !== undefined && spoken !== String(PROTOCOL_VERSION)) {
      throw new AppError(
        ErrorCode.ProtocolMismatch,
        `this server speaks protocol ${PROTOCOL_VERSION}, the client ${String(spoken)}; reload the page or update the client`,
      );
    }
  });
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? 'unmatched',
      status_code: String(reply.statusCode),
    };
    requests.inc(labels);
    duration.observe(labels, reply.elapsedTime / 1000);
  });

  await app.register(fastifyCookie);
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:', 'mediastream:'],
        connectSrc: ["'self'", 'ws:', 'wss:'],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        // Plain-HTTP installs (a LAN, HOST=0.0.0.0) must keep working; TLS is the gateway's job.
        upgradeInsecureRequests: null,
      },
    },
    crossOriginEmbedderPolicy: false,
  });
  const allowed = new Set(o.corsOrigins);
  await app.register(fastifyCors, {
    origin: (origin, cb) => cb(null, origin !== undefined && allowed.has(origin)),
    credentials: true,
    methods: ['GET', 'HEAD', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
    exposedHeaders: ['x-request-id', 'location', 'link', 'etag', 'retry-after'],
  });
  await app.register(fastifyRateLimit, {
    global: true,
    max: o.rateLimitPerMinute,
    timeWindow: 60_000,
    allowList: (request) => ['/healthz', '/readyz', '/metrics', '/metrics/targets'].includes(request.url),
    errorResponseBuilder: (_request, context) => rateLimited(Math.max(1, Math.ceil(context.ttl / 1000))),
  });
  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'FusionFlow API',
        description: 'Control plane of FusionFlow. Errors are `{ error: { code, message } }`; see docs/protocol.md.',
        version: o.version,
      },
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs', staticCSP: true });
  return app;
}
