import { AppError, badRequest, inSpan, type MemoryRateLimiter, notFound, rateLimited } from '@fusionflow/kit';
import {
  ErrorCode,
  type GrantRole,
  LayerRequest,
  MEDIA_PATHS,
  mediaSessionPath,
  ROOM_ID_PATTERN,
} from '@fusionflow/protocol';
import type { FastifyRequest } from 'fastify';
import type { Admission, Authorizer } from '../auth/authorizer.js';
import { parseIceFragment } from '../peer/sdp.js';
import type { RoomManager } from '../room/room-manager.js';
import type { MediaSession } from '../session/media-session.js';
import { SubscriberSession } from '../session/subscriber-session.js';
import { bearerOf, ICE_FRAGMENT_TYPE, SDP_TYPE, type SfuHttpApp } from './http-app.js';
import { eventsLink, registerSessionEvents } from './session-events.js';

export interface SessionRoutesOptions {
  rooms: RoomManager;
  auth: Authorizer;
  limiter: MemoryRateLimiter;
  /** A draining node refuses new sessions (`503 sfu_draining`). */
  drain?: { refuseIfDraining(): void };
  /** `Link` headers of ICE servers for a new session (the grant's, or the SFU's own). */
  iceLinks: (admission: Admission, sessionId: string) => string[];
  /** Keep-alive comment interval of server-sent events. */
  keepAliveMs?: number;
}

const LAYER_REL = 'urn:ietf:params:whep:ext:core:layer';

const kinds = {
  whip: { role: 'publish' as GrantRole, sessionKind: 'publisher' },
  whep: { role: 'subscribe' as GrantRole, sessionKind: 'subscriber' },
} as const;

function contentType(request: FastifyRequest): string {
  return String(request.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim()
    .toLowerCase();
}

/**
 * WHIP (`/api/whip/…`) and WHEP (`/api/whep/…`) per RFC 9725 and seed 004: POST an SDP offer to
 * the room's endpoint, get `201` with the answer, the session URL in `Location`, ICE servers in
 * `Link`; PATCH the session with trickle ICE or an ICE restart; DELETE it to leave. Session URLs
 * also serve server-sent events (`/events`) and, for WHEP, the simulcast layer choice (`/layer`).
 */
export function registerSessionRoutes(app: SfuHttpApp, o: SessionRoutesOptions): void {
  const limit = (request: FastifyRequest) => {
    const r = o.limiter.hitSync(request.ip);
    if (!r.allowed) throw rateLimited(r.retryAfterSeconds);
  };

  const sessionOf = (proto: 'whip' | 'whep', id: string): MediaSession => {
    const s = o.rooms.session(id);
    if (!s || s.closed || s.kind !== kinds[proto].sessionKind) throw notFound('no such session');
    return s;
  };

  for (const proto of ['whip', 'whep'] as const) {
    const { role } = kinds[proto];
    const { base, endpoint } = MEDIA_PATHS[proto];

    app.options(`${endpoint}/:room`, async (_request, reply) =>
      reply
        .code(204)
        .header('allow', 'OPTIONS, POST')
        .header('accept-post', SDP_TYPE)
        .header('access-control-allow-methods', 'OPTIONS, POST')
        .header('access-control-allow-headers', 'authorization, content-type, x-request-id, traceparent, tracestate')
        .header('access-control-max-age', '600')
        .send(),
    );

    app.post<{ Params: { room: string } }>(`${endpoint}/:room`, async (request, reply) => {
      const { room } = request.params;
      if (!ROOM_ID_PATTERN.test(room)) throw badRequest('room names match ^[A-Za-z0-9_-]{1,64}$');
      o.drain?.refuseIfDraining();
      limit(request);
      if (contentType(request) !== SDP_TYPE) {
        throw new AppError(ErrorCode.UnsupportedMediaType, `send the offer as ${SDP_TYPE}`);
      }
      const offer = typeof request.body === 'string' ? request.body : '';
      if (offer.trim() === '') throw new AppError(ErrorCode.InvalidSdp, 'the body is empty; send an SDP offer');
      const admission = await o.auth.admit(room, role, bearerOf(request));
      if (o.rooms.closed) throw new AppError(ErrorCode.Unavailable, 'the SFU is shutting down');
      const r = o.rooms.open(room);
      try {
        // The session's own span: a child of this request's, which the control plane's forwarder parents.
        const { session, answer } = await inSpan(
          `${proto}.session`,
          { 'ff.room': room, 'ff.role': role, 'ff.auth': admission.via },
          async (span) => {
            const made = proto === 'whip' ? await r.publish(offer, admission) : await r.subscribe(offer, admission);
            span.setAttribute('ff.session', made.session.id);
            return made;
          },
        );
        const location = mediaSessionPath(proto, session.id);
        const links = [
          ...o.iceLinks(admission, session.id),
          eventsLink(location, proto),
          ...(proto === 'whep' ? [`<${location}/layer>; rel="${LAYER_REL}"`] : []),
        ];
        request.log.info({ roomId: room, sessionId: session.id, via: admission.via }, `${proto} session created`);
        return reply
          .code(201)
          .header('content-type', SDP_TYPE)
          .header('location', location)
          .header('etag', session.etag)
          .header('accept-patch', ICE_FRAGMENT_TYPE)
          .header('link', links)
          .send(answer);
      } finally {
        o.rooms.pruneIfEmpty(room);
      }
    });

    app.options(`${base}/sessions/:id`, async (_request, reply) =>
      reply
        .code(204)
        .header('allow', 'OPTIONS, PATCH, DELETE')
        .header('accept-patch', ICE_FRAGMENT_TYPE)
        .header('access-control-allow-methods', 'OPTIONS, PATCH, DELETE')
        .header(
          'access-control-allow-headers',
          'authorization, content-type, if-match, x-request-id, traceparent, tracestate',
        )
        .header('access-control-max-age', '600')
        .send(),
    );

    app.delete<{ Params: { id: string } }>(`${base}/sessions/:id`, async (request, reply) => {
      const session = sessionOf(proto, request.params.id);
      await session.close('deleted');
      return reply.code(200).send();
    });

    app.patch<{ Params: { id: string } }>(`${base}/sessions/:id`, async (request, reply) => {
      limit(request);
      const session = sessionOf(proto, request.params.id);
      if (contentType(request) !== ICE_FRAGMENT_TYPE) {
        throw new AppError(ErrorCode.UnsupportedMediaType, `send ${ICE_FRAGMENT_TYPE}`);
      }
      const ifMatch = request.headers['if-match'];
      const fragment = parseIceFragment(typeof request.body === 'string' ? request.body : '');
      const restart = fragment.ufrag !== undefined;
      if (ifMatch !== undefined && ifMatch !== '*' && ifMatch !== session.etag && !restart) {
        throw new AppError(ErrorCode.PreconditionFailed, 'If-Match names another ICE session');
      }
      const answer = await session.patch(fragment);
      if (answer === undefined) return reply.code(204).send();
      return reply.code(200).header('content-type', ICE_FRAGMENT_TYPE).header('etag', session.etag).send(answer);
    });

    registerSessionEvents(app, {
      proto,
      base,
      sessionOf: (id) => sessionOf(proto, id),
      ...(o.keepAliveMs !== undefined ? { keepAliveMs: o.keepAliveMs } : {}),
    });

    if (proto === 'whep') {
      app.options(`${base}/sessions/:id/layer`, async (_request, reply) =>
        reply
          .code(204)
          .header('allow', 'OPTIONS, POST, DELETE')
          .header('access-control-allow-methods', 'OPTIONS, POST, DELETE')
          .header('access-control-allow-headers', 'authorization, content-type, x-request-id, traceparent, tracestate')
          .header('access-control-max-age', '600')
          .send(),
      );
      // whep.js's unselectLayer: back to following the bandwidth estimate.
      app.delete<{ Params: { id: string } }>(`${base}/sessions/:id/layer`, async (request, reply) => {
        const session = sessionOf(proto, request.params.id);
        if (!(session instanceof SubscriberSession)) throw notFound('no such session');
        session.setLayer(null);
        return reply.code(200).send();
      });
      app.post<{ Params: { id: string } }>(`${base}/sessions/:id/layer`, async (request, reply) => {
        const session = sessionOf(proto, request.params.id);
        const parsed = LayerRequest.safeParse(request.body);
        if (!parsed.success) {
          throw new AppError(
            ErrorCode.ValidationFailed,
            'send { "rid": "<rid>" | null } or the WHEP draft\'s { "mediaId", "encodingId", "maxHeight", … }',
          );
        }
        if (!(session instanceof SubscriberSession)) throw notFound('no such session');
        session.chooseLayer(parsed.data);
        // The WHEP draft answers a layer switch with 200 OK.
        return reply.code(200).send();
      });
    }
  }
}
