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
type DraftEvent = (typeof DRAFT_EVENTS)[number];

/** Event streams one session may have at once (POST makes one each). */
const MAX_STREAMS_PER_SESSION = 4;
/** Events kept for a stream while nobody pulls it (the oldest go first). */
const MAX_QUEUED = 64;

/** `Link` value of a session's event entry point (FusionFlow's GET stream and the draft's POST both start there). */
export function eventsLink(location: string, proto: 'whip' | 'whep'): string {
  // The draft's names first (a POST may ask for them), then FusionFlow's own (the GET stream's).
  const names = proto === 'whep' ? [...DRAFT_EVENTS, 'viewers', 'ended'] : ['viewers', 'ended'];
  return `<${location}/events>; rel="${SSE_REL}"; events="${names.join(',')}"`;
}

/** A session event as the WHEP draft names and shapes it (undefined when the draft has no such event). */
function draftEventOf(session: MediaSession, event: SessionEvent): { name: DraftEvent; data: unknown } | undefined {
  if (event.type === 'viewers') return { name: 'viewercount', data: { viewercount: event.count } };
  if (event.type === 'layers' && session instanceof SubscriberSession)
    return { name: 'layers', data: session.draftLayers() };
  if (event.type === 'ended' && event.reason === 'publisher_left') return { name: 'inactive', data: {} };
  return undefined;
}

/** One stream made by POST: the event names asked for, what waits for a pull, and the pull now open. */
interface DraftStream {
  readonly events: ReadonlySet<DraftEvent>;
  readonly queue: string[];
  reply: FastifyReply | undefined;
  done: boolean;
  unsubscribe: () => void;
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
 * - draft-ietf-wish-whep's: `POST <session>/events` with a JSON array of event names (or no body: all of them)
 *   answers `201` with the stream's URL in `Location`; `GET` there streams `active`, `inactive`, `layers` and
 *   `viewercount` as the draft shapes them (one `data` line each), queueing what happens between two pulls;
 *   `DELETE` there ends it (a later `GET` is `404`). Every stream ends with its session.
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
  if (o.proto !== 'whep') return;

  app.post<{ Params: { id: string } }>(`${o.base}/sessions/:id/events`, async (request, reply) => {
    const session = o.sessionOf(request.params.id);
    const body = request.body;
    let wanted: DraftEvent[] = [...DRAFT_EVENTS];
    if (body !== undefined && body !== null && body !== '') {
      if (!Array.isArray(body) || body.length > 16 || !body.every((e) => typeof e === 'string' && e.length <= 32)) {
        throw new AppError(ErrorCode.ValidationFailed, 'send a JSON array of event names, e.g. ["active","layers"]');
      }
      const unknown = body.filter((e) => !(DRAFT_EVENTS as readonly string[]).includes(e));
      if (unknown.length > 0) {
        throw new AppError(ErrorCode.ValidationFailed, `unknown events: ${unknown.join(', ')}`, {
          supported: [...DRAFT_EVENTS],
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
      const draft = draftEventOf(session, event);
      if (draft) push(draft.name, draft.data);
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
