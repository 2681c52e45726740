import replyFrom from '@fastify/reply-from';
import { AppError, unauthorized } from '@fusionflow/kit';
import {
  ErrorBody,
  ErrorCode,
  isWhepPlayPath,
  MEDIA_PATHS,
  MediaEvent,
  RecordingReport,
  RoomParams,
  StreamKeyAdmitRequest,
  StreamKeyInfo,
  StreamKeyResponse,
  sessionPathOnNode,
  splitMediaNode,
} from '@fusionflow/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../http/http-app.js';
import { signedInternalJson } from '../../http/internal-request.js';
import { publicOriginOf } from '../../http/public-origin.js';
import { type AuthGuard, sessionOf } from '../identity/auth-guard.js';
import type { RecordingService } from '../replays/recording-service.js';
import type { LiveService } from './live-service.js';
import type { ViewerMetrics } from './viewer-metrics.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 429: ErrorBody };

/**
 * Internal endpoints the SFU calls (`/api/internal/sfu/…`, HMAC-signed, never proxied or exposed by
 * nginx), the room owner's stream key, and the forwarding of WHIP/WHEP to the SFU so the browser
 * sees one origin.
 */
export async function registerLiveRoutes(
  app: HttpApp,
  o: {
    live: LiveService;
    guard: AuthGuard;
    secret: string;
    /** What the SFU reports of the recordings it writes (POST /api/internal/sfu/recordings). */
    recordings?: Pick<RecordingService, 'report'>;
    publicUrl: string | undefined;
    /** The SFU's base URL, when it runs. */
    sfuUrl: () => string | undefined;
    /**
     * Several SFU nodes: the base URL of a node a grant named (`?node=` or `<node>~<session>`, see
     * protocol's media-urls), and of the node a request that names none goes to when there is no
     * `sfuUrl` (an encoder's WHIP with a stream key: placed like a publisher's grant).
     */
    nodes?: {
      url(nodeId: string): Promise<string | undefined>;
      unnamed(path: string): Promise<{ nodeId: string; url: string } | undefined>;
    };
    viewers?: ViewerMetrics;
  },
): Promise<void> {
  const originOf = (request: FastifyRequest) => publicOriginOf(request, o.publicUrl);
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/api/rooms/:id/stream-key', {
    preHandler: o.guard.account,
    schema: {
      tags: ['live'],
      summary: 'Whether the live room has a stream key for encoders (owner only); the key itself is stored hashed',
      params: RoomParams,
      response: { 200: StreamKeyInfo, ...errors },
    },
    handler: async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return o.live.streamKeyInfo(sessionOf(request), request.params.id, originOf(request));
    },
  });

  r.post('/api/rooms/:id/stream-key', {
    preHandler: o.guard.account,
    schema: {
      tags: ['live'],
      summary: 'Make a new stream key for OBS or any WHIP encoder (replaces the old one; shown once)',
      params: RoomParams,
      response: { 200: StreamKeyResponse, ...errors },
    },
    handler: async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return o.live.createStreamKey(sessionOf(request), request.params.id, originOf(request));
    },
  });

  // Internal: raw bodies, so the signature is checked over exactly the bytes that were signed.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    const verified = (request: FastifyRequest): unknown => signedInternalJson(o.secret, request);
    scope.post('/api/internal/sfu/events', { schema: { hide: true } }, async (request, reply) => {
      const event = MediaEvent.safeParse(verified(request));
      if (!event.success) throw new AppError(ErrorCode.ValidationFailed, 'not a media event', event.error.issues);
      await o.live.handleEvent(event.data);
      return reply.code(204).send();
    });
    scope.post('/api/internal/sfu/recordings', { schema: { hide: true } }, async (request, reply) => {
      const report = RecordingReport.safeParse(verified(request));
      if (!report.success)
        throw new AppError(ErrorCode.ValidationFailed, 'not a recording report', report.error.issues);
      if (!o.recordings) throw new AppError(ErrorCode.RecordingNotFound, 'this server keeps no recordings');
      await o.recordings.report(report.data);
      return reply.code(204).send();
    });
    scope.post('/api/internal/sfu/admit', { schema: { hide: true } }, async (request) => {
      const admit = StreamKeyAdmitRequest.safeParse(verified(request));
      if (!admit.success) throw new AppError(ErrorCode.ValidationFailed, 'not an admission request');
      const token = await o.live.admit(admit.data.room, admit.data.streamKey);
      if (!token) throw unauthorized('this stream key does not open this room');
      return { token };
    });
  });

  // WHIP/WHEP forwarded to the SFU, bodies (SDP, ICE fragments, JSON) and headers as they are.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    // Every WHIP/WHEP body is text (SDP, ICE fragments, JSON); a string passes through reply-from as is.
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) =>
      done(null, body),
    );
    await scope.register(replyFrom, { undici: { headersTimeout: 30_000, bodyTimeout: 0 } });
    // Viewers' join attempts: every play offer, by how the SFU answered (see ViewerMetrics).
    const isPlay = (request: FastifyRequest) => request.method === 'POST' && isWhepPlayPath(request.url);
    scope.addHook('onResponse', async (request, reply) => {
      if (!isPlay(request)) return;
      const status = reply.statusCode;
      o.viewers?.attempt(status === 201 ? 'answered' : status < 500 ? 'refused' : 'failed');
    });
    const forward = async (request: FastifyRequest, reply: FastifyReply) => {
      const offeredAt = Date.now();
      const named = splitMediaNode(request.url);
      let node = named.node;
      let base: string | undefined;
      if (node !== undefined) {
        base = await o.nodes?.url(node);
        if (!base) throw new AppError(ErrorCode.Unavailable, 'the media node this URL names is not known (any more)');
      } else {
        base = o.sfuUrl();
        if (!base && o.nodes) {
          const placed = await o.nodes.unnamed(named.url);
          node = placed?.nodeId;
          base = placed?.url;
        }
      }
      if (!base) throw new AppError(ErrorCode.Unavailable, 'the media server is not running');
      // The body goes as it came (reply-from would JSON-encode a JSON body again).
      const raw = typeof request.body === 'string' && request.body !== '' ? request.body : undefined;
      const contentType = request.headers['content-type'];
      return reply.from(`${base}${named.url}`, {
        ...(raw !== undefined && contentType ? { body: raw, contentType } : {}),
        // The browser's trace context stops here: tracing (when on) sends the forwarder's own span instead.
        rewriteRequestHeaders: (_req, { traceparent: _tp, tracestate: _ts, ...headers }) => ({
          ...headers,
          'x-forwarded-for': request.ip,
        }),
        rewriteHeaders: (headers) => {
          const location = headers.location;
          if (isPlay(request) && typeof location === 'string') {
            o.viewers?.answered(location.slice(location.lastIndexOf('/') + 1), offeredAt);
          }
          if (node === undefined) return headers;
          // A named node: its session URLs name it too, so PATCH, DELETE, /events and /layer reach it.
          const onNode = (v: unknown) => (typeof v === 'string' ? sessionPathOnNode(v, node) : v);
          const link = headers.link;
          return {
            ...headers,
            ...(typeof location === 'string' ? { location: sessionPathOnNode(location, node) } : {}),
            ...(link !== undefined ? { link: Array.isArray(link) ? link.map(onNode) : onNode(link) } : {}),
          } as typeof headers;
        },
        onError: (rep, { error }) => {
          request.log.warn({ err: error }, 'SFU unreachable');
          rep.code(503).send({ error: { code: 'unavailable', message: 'the media server is not reachable' } });
        },
      });
    };
    for (const prefix of [MEDIA_PATHS.whip.base, MEDIA_PATHS.whep.base].map((base) => `${base}/*`)) {
      scope.route({
        method: ['GET', 'POST', 'PATCH', 'DELETE', 'OPTIONS'],
        url: prefix,
        schema: { hide: true },
        config: { rateLimit: false },
        handler: forward,
      });
    }
  });
}
