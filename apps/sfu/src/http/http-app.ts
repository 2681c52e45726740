import { randomUUID } from 'node:crypto';
import { type Logger, type TrustProxy, toErrorResponse, trustFunction } from '@fusionflow/kit';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';

export type SfuHttpApp = FastifyInstance;

export const SDP_TYPE = 'application/sdp';
export const ICE_FRAGMENT_TYPE = 'application/trickle-ice-sdpfrag';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export interface SfuHttpOptions {
  logger: Logger;
  maxSdpBytes: number;
  /** Which proxies to believe about the client's address (TRUST_PROXY). */
  trustProxy: TrustProxy;
  corsOrigins: readonly string[];
  /** One log line per request and per refusal (LOG_REQUESTS); off, refusals are logged at debug. */
  logRequests?: boolean;
}

/**
 * The SFU's HTTP server: SDP and ICE-fragment bodies as text (with their own size limit), JSON for
 * the admin API, one error shape `{ error: { code, message } }`, request ids, and CORS for the
 * WHIP/WHEP paths (tokens travel in the Authorization header, never cookies).
 */
export async function createSfuHttpApp(o: SfuHttpOptions): Promise<SfuHttpApp> {
  const app = Fastify({
    loggerInstance: o.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: !o.logRequests }),
    bodyLimit: Math.max(o.maxSdpBytes, 16 * 1024),
    // A function, not Fastify's number form: Fastify ignores a bare hop count (fails closed).
    trustProxy: o.trustProxy === false ? false : trustFunction(o.trustProxy),
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
  app.removeContentTypeParser('text/plain');
  for (const type of [SDP_TYPE, ICE_FRAGMENT_TYPE]) {
    app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: o.maxSdpBytes }, (_req, body, done) =>
      done(null, body),
    );
  }
  app.setErrorHandler((err, request, reply) => {
    const { status, body, headers } = toErrorResponse(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    else if (o.logRequests) request.log.info({ code: body.error.code, status }, 'request refused');
    else request.log.debug({ code: body.error.code, status }, 'request refused');
    return reply.code(status).headers(headers).send(body);
  });
  app.setNotFoundHandler((_request, reply) => {
    reply.code(404).send({ error: { code: 'not_found', message: 'no such endpoint' } });
  });
  const anyOrigin = o.corsOrigins.includes('*');
  const allowed = new Set(o.corsOrigins);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('x-request-id', request.id);
    const origin = request.headers.origin;
    if (origin && (request.url.startsWith('/api/whip/') || request.url.startsWith('/api/whep/'))) {
      if (anyOrigin || allowed.has(origin)) {
        reply.header('access-control-allow-origin', anyOrigin ? '*' : origin);
        reply.header(
          'access-control-expose-headers',
          'location, link, etag, accept-patch, accept-post, retry-after, x-request-id',
        );
        if (!anyOrigin) reply.header('vary', 'origin');
      }
    }
  });
  return app;
}

/** The bearer token of a request, if any. */
export function bearerOf(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  return m?.[1];
}
