import { randomBytes } from 'node:crypto';
import { AppError, notFound } from '@fusionflow/kit';
import { ErrorCode, type SessionEvent } from '@fusionflow/protocol';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { MediaSession } from '../session/media-session.js';
import { SubscriberSession } from '../session/subscriber-session.js';
import type { SfuHttpApp } from './http-app.js';

export const SSE_REL = 'urn:ietf:params:whep:ext:core:server-sent-events';

/** The WHEP draft's event names this SFU sends to a stream made by POST. */
export const DRAFT_EVENTS = ['active', 'inactive', 'layers', 'viewercount'] as const;
/** FusionFlow's own events (the GET stream's), which the `Link` lists too and a POST may ask for. */
export const OWN_EVENTS = ['viewers', 'ended'] as const;
/** Every name a WHEP session's `Link` lists: what a draft client (whep.js) POSTs back as it is. */
export const LINKED_EVENTS = [...DRAFT_EVENTS, ...OWN_EVENTS] as const;
type DraftEvent = (typeof LINKED_EVENTS)[number];

const CORS_ALLOW_HEADERS = 'authorization, content-type, x-request-id, traceparent, tracestate';

/** Event streams one session may have at once (POST makes one each). */
const MAX_STREAMS_PER_SESSION = 4;
/** Events kept for a stream while nobody pulls it (the oldest go first). */
const MAX_QUEUED = 64;

/** `Link` value of a session's event entry point (FusionFlow's GET stream and the draft's POST both start there). */
export function eventsLink(location: string, proto: 'whip' | 'whep'): string {
  // The draft's names first (a POST may ask for them), then FusionFlow's own (the GET stream's).
  const names = proto === 'whep' ? LINKED_EVENTS : OWN_EVENTS;
  return `<${location}/events>; rel="${SSE_REL}"; events="${names.join(',')}"`;
}

/**
 * A session event as a stream made by POST sends it: the draft's names and shapes, and FusionFlow's own `viewers` and
 * `ended` as the GET stream has them (`{ type, … }`).
 */
export function draftEventsOf(session: MediaSession, event: SessionEvent): { name: DraftEvent; data: unknown }[] {
  if (event.type === 'viewers') {
    return [
      { name: 'viewercount', data: { viewercount: event.count } },
      { name: 'viewers', data: event },
    ];
  }
  if (event.type === 'layers') {
    return session instanceof SubscriberSession ? [{ name: 'layers', data: session.draftLayers() }] : [];
  }
  if (event.type === 'ended') {
    return [
      ...(event.reason === 'publisher_left' ? [{ name: 'inactive' as const, data: {} }] : []),
      { name: 'ended', data: event },
    ];
  }
  return [];
}

/** One stream made by POST: the event names asked for, what waits for a pull, and the pull now open. */
interface DraftStream {
  readonly events: ReadonlySet<DraftEvent>;
  readonly queue: string[];
  reply: FastifyReply | undefined;
  done: boolean;
  unsubscribe: () => void;
}

function preflight(reply: FastifyReply, methods: string): FastifyReply {
  return reply
    .code(204)
    .header('allow', methods)
    .header('access-control-allow-methods', methods)
    .header('access-control-allow-headers', CORS_ALLOW_HEADERS)
    .header('access-control-max-age', '600')
    .send();
}

function openEventStream(request: FastifyRequest, reply: FastifyReply): FastifyReply['raw'] {
  reply.hijack();
  const raw = reply.raw;
  const origin = reply.getHeader('access-control-allow-origin');
  raw.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    ...(origin ? { 'access-control-allow-origin': String(origin) } : {}),
  });
  raw.write(': connected\n\n');
  request.raw.socket?.setNoDelay(true);
  return raw;
}

/**
 * A session's server-sent events, two ways:
 * - FusionFlow's own: `GET <session>/events` streams `viewers`, `layers` and `ended` (the SDK's `EventSource`).
 * - draft-ietf-wish-whep's: `POST <session>/events` with a JSON array of event names (or no body: the draft's)
 *   answers `201` with the stream's URL in `Location`; `GET` there streams `active`, `inactive`, `layers` and
 *   `viewercount` as the draft shapes them (one `data` line each), and FusionFlow's `viewers` and `ended` when asked
 *   for (a draft client POSTs back every name the `Link` lists), queueing what happens between two pulls;
 *   `DELETE` there ends it (a later `GET` is `404`). Every stream ends with its session. Both answer CORS
 *   preflights: a player on another origin POSTs JSON with its bearer token.
 */
export function registerSessionEvents(
  app: SfuHttpApp,
  o: { proto: 'whip' | 'whep'; base: string; sessionOf: (id: string) => MediaSession; keepAliveMs?: number },
): void {
  const keepAliveMs = o.keepAliveMs ?? 15_000;
  const streams = new Map<MediaSession, Map<string, DraftStream>>();
  const streamsOf = (session: MediaSession) => {
    let own = streams.get(session);
    if (!own) {
      const made = new Map<string, DraftStream>();
      own = made;
      streams.set(session, made);
      session.on('close', () => {
        for (const s of made.values()) {
          s.done = true;
          s.reply?.raw.end();
        }
        streams.delete(session);
      });
    }
    return own;
  };

  app.get<{ Params: { id: string } }>(`${o.base}/sessions/:id/events`, async (request, reply) => {
    const session = o.sessionOf(request.params.id);
    const raw = openEventStream(request, reply);
    let done = false;
    let unsubscribe = () => {};
    const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), keepAliveMs);
    const finish = () => {
      if (done) return;
      done = true;
      clearInterval(keepAlive);
      unsubscribe();
      raw.end();
    };
    request.raw.on('close', finish);
    unsubscribe = session.listen((event) => {
      raw.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      if (event.type === 'ended') finish();
    });
    if (done) unsubscribe();
  });

  // The draft's flow is WHEP's (WHIP has no events extension).
  if (o.proto !== 'whep') {
    app.options(`${o.base}/sessions/:id/events`, async (_request, reply) => preflight(reply, 'OPTIONS, GET'));
    return;
  }
  app.options(`${o.base}/sessions/:id/events`, async (_request, reply) => preflight(reply, 'OPTIONS, GET, POST'));
  app.options(`${o.base}/sessions/:id/events/:stream`, async (_request, reply) =>
    preflight(reply, 'OPTIONS, GET, DELETE'),
  );

  app.post<{ Params: { id: string } }>(`${o.base}/sessions/:id/events`, async (request, reply) => {
    const session = o.sessionOf(request.params.id);
    const body = request.body;
    let wanted: DraftEvent[] = [...DRAFT_EVENTS];
    if (body !== undefined && body !== null && body !== '') {
      if (!Array.isArray(body) || body.length > 16 || !body.every((e) => typeof e === 'string' && e.length <= 32)) {
        throw new AppError(ErrorCode.ValidationFailed, 'send a JSON array of event names, e.g. ["active","layers"]');
      }
      const unknown = body.filter((e) => !(LINKED_EVENTS as readonly string[]).includes(e));
      if (unknown.length > 0) {
        throw new AppError(ErrorCode.ValidationFailed, `unknown events: ${unknown.join(', ')}`, {
          supported: [...LINKED_EVENTS],
        });
      }
      wanted = body as DraftEvent[];
    }
    const own = streamsOf(session);
    if (own.size >= MAX_STREAMS_PER_SESSION) {
      throw new AppError(ErrorCode.Conflict, `a session has at most ${MAX_STREAMS_PER_SESSION} event streams`);
    }
    const id = randomBytes(12).toString('base64url');
    const stream: DraftStream = {
      events: new Set(wanted),
      queue: [],
      reply: undefined,
      done: false,
      unsubscribe: () => {},
    };
    own.set(id, stream);
    const push = (name: DraftEvent, data: unknown) => {
      if (stream.done || !stream.events.has(name)) return;
      const line = `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
      if (stream.reply) stream.reply.raw.write(line);
      else {
        stream.queue.push(line);
        if (stream.queue.length > MAX_QUEUED) stream.queue.shift();
      }
    };
    // A WHEP session exists only while someone publishes: the publication is active from the start.
    push('active', {});
    stream.unsubscribe = session.listen((event) => {
      for (const draft of draftEventsOf(session, event)) push(draft.name, draft.data);
    });
    const path = request.url.split('?')[0]!;
    return reply.code(201).header('location', `${path}/${id}`).send();
  });

  const streamOf = (sessionId: string, streamId: string): DraftStream => {
    const stream = streams.get(o.sessionOf(sessionId))?.get(streamId);
    if (!stream || stream.done) throw notFound('no such event stream');
    return stream;
  };

  app.get<{ Params: { id: string; stream: string } }>(
    `${o.base}/sessions/:id/events/:stream`,
    async (request, reply) => {
      const stream = streamOf(request.params.id, request.params.stream);
      if (stream.reply) throw new AppError(ErrorCode.Conflict, 'this event stream is being read already');
      const raw = openEventStream(request, reply);
      stream.reply = reply;
      for (const line of stream.queue.splice(0)) raw.write(line);
      const keepAlive = setInterval(() => raw.write(': keep-alive\n\n'), keepAliveMs);
      request.raw.on('close', () => {
        clearInterval(keepAlive);
        if (stream.reply === reply) stream.reply = undefined;
      });
    },
  );

  app.delete<{ Params: { id: string; stream: string } }>(
    `${o.base}/sessions/:id/events/:stream`,
    async (request, reply) => {
      const stream = streamOf(request.params.id, request.params.stream);
      stream.done = true;
      stream.queue.length = 0;
      stream.unsubscribe();
      stream.reply?.raw.end();
      streams.get(o.sessionOf(request.params.id))?.delete(request.params.stream);
      return reply.code(200).send();
    },
  );
}
