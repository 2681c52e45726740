import { describe, expect, it } from 'vitest';
import { ApiClient } from './api-client.js';
import { FusionFlowError, isFusionFlowError } from './fusionflow-error.js';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

type Handler = (call: Call, index: number) => Response | Promise<Response>;

/** A fetch that records every call and answers with `handler`. */
function fakeFetch(handler: Handler) {
  const calls: Call[] = [];
  const fetch = async (input: string, init: RequestInit = {}) => {
    const call: Call = {
      url: input,
      method: init.method ?? 'GET',
      headers: { ...(init.headers as Record<string, string>) },
      body: typeof init.body === 'string' ? JSON.parse(init.body) : init.body,
    };
    calls.push(call);
    return handler(call, calls.length - 1);
  };
  return { fetch, calls };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const error = (status: number, code: string, message: string, details?: unknown) =>
  json(status, { error: { code, message, ...(details === undefined ? {} : { details }) } });

const user = {
  id: 'u1',
  email: 'ada@example.com',
  displayName: 'Ada',
  handle: 'ada',
  role: 'streamer',
  language: 'en',
  createdAt: '2025-01-01T00:00:00.000Z',
};
const auth = (token: string, u: object = user) => ({
  user: u,
  accessToken: token,
  accessTokenExpiresAt: '2030-01-01T00:00:00.000Z',
});
const room = {
  id: 'r1',
  kind: 'live',
  title: 'Hello',
  status: 'created',
  ownerId: 'u1',
  ownerName: 'Ada',
  ownerHandle: 'ada',
  ticketPrice: null,
  pricePerMinute: null,
  record: true,
  viewerCount: 0,
  createdAt: '2025-01-01T00:00:00.000Z',
  startedAt: null,
  endedAt: null,
};

async function signedIn(handler: Handler) {
  const f = fakeFetch((call, i) => (i === 0 ? json(200, auth('old')) : handler(call, i)));
  const client = new ApiClient({ baseUrl: 'http://api.test/', fetch: f.fetch });
  await client.login({ email: 'ada@example.com', password: 'secret-password' });
  return { client, calls: f.calls };
}

describe('ApiClient', () => {
  it('signs in, keeps the access token in memory and sends it with the protocol version', async () => {
    const { client, calls } = await signedIn(() => json(200, user));
    expect(client.accessToken).toBe('old');
    expect(calls[0]).toMatchObject({
      url: 'http://api.test/api/auth/login',
      method: 'POST',
      body: { email: 'ada@example.com', password: 'secret-password' },
      headers: { 'content-type': 'application/json', 'x-ff-protocol': '1' },
    });
    expect(calls[0]!.headers.authorization).toBeUndefined();

    const me = await client.getMe();
    expect(me.displayName).toBe('Ada');
    expect(calls[1]).toMatchObject({ url: 'http://api.test/api/me', method: 'GET' });
    expect(calls[1]!.headers.authorization).toBe('Bearer old');
  });

  it('refreshes once on token_expired and retries the request with the new token', async () => {
    const sessions: (string | null)[] = [];
    const { client, calls } = await signedIn((call) => {
      if (call.url.endsWith('/api/auth/refresh')) return json(200, auth('new'));
      if (call.headers.authorization === 'Bearer old') return error(401, 'token_expired', 'access token expired');
      return json(201, room);
    });
    client.on('session', (s) => sessions.push(s?.accessToken ?? null));

    const created = await client.createRoom({ kind: 'live', title: 'Hello' });

    expect(created.id).toBe('r1');
    expect(calls.map((c) => `${c.method} ${c.url.replace('http://api.test', '')}`)).toEqual([
      'POST /api/auth/login',
      'POST /api/rooms',
      'POST /api/auth/refresh',
      'POST /api/rooms',
    ]);
    // The refresh has no body, so it declares no JSON content type (Fastify refuses empty JSON).
    expect(calls[2]!.headers['content-type']).toBeUndefined();
    expect(calls[3]!.headers.authorization).toBe('Bearer new');
    expect(calls[3]!.body).toEqual({ kind: 'live', title: 'Hello' });
    expect(client.accessToken).toBe('new');
    expect(sessions).toEqual(['new']);
  });

  it('concurrent requests with an expired token share a single refresh', async () => {
    const { client, calls } = await signedIn((call) => {
      if (call.url.endsWith('/api/auth/refresh')) return json(200, auth('new'));
      if (call.headers.authorization === 'Bearer old') return error(401, 'token_expired', 'expired');
      return json(200, user);
    });
    await Promise.all([client.getMe(), client.getMe(), client.getMe()]);
    expect(calls.filter((c) => c.url.endsWith('/api/auth/refresh'))).toHaveLength(1);
  });

  it('retries only once: a second token_expired is thrown', async () => {
    const { client, calls } = await signedIn((call) => {
      if (call.url.endsWith('/api/auth/refresh')) return json(200, auth('new'));
      return error(401, 'token_expired', 'still expired');
    });
    await expect(client.getMe()).rejects.toMatchObject({ code: 'token_expired', status: 401 });
    expect(calls).toHaveLength(4);
  });

  it('does not refresh for other 401s', async () => {
    const { client, calls } = await signedIn(() => error(401, 'unauthorized', 'sign in first'));
    await expect(client.getMe()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(calls).toHaveLength(2);
  });

  it('forgets the session when the refresh is refused', async () => {
    const sessions: (string | null)[] = [];
    const { client } = await signedIn((call) => {
      if (call.url.endsWith('/api/auth/refresh')) return error(401, 'refresh_token_reused', 'signed out everywhere');
      return error(401, 'token_expired', 'expired');
    });
    client.on('session', (s) => sessions.push(s?.accessToken ?? null));
    await expect(client.getMe()).rejects.toMatchObject({ code: 'refresh_token_reused', status: 401 });
    expect(client.session).toBeNull();
    expect(sessions).toEqual([null]);
  });

  it('maps error bodies to FusionFlowError with code, status, message, details and request id', async () => {
    const f = fakeFetch(() =>
      json(
        409,
        { error: { code: 'email_taken', message: 'an account with this email exists', details: { field: 'email' } } },
        { 'x-request-id': 'req-42' },
      ),
    );
    const client = new ApiClient({ fetch: f.fetch });
    const err = await client
      .register({ email: 'ada@example.com', password: 'secret-password', displayName: 'Ada' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FusionFlowError);
    expect(err).toMatchObject({
      code: 'email_taken',
      status: 409,
      message: 'an account with this email exists',
      details: { field: 'email' },
      requestId: 'req-42',
    });
    expect(isFusionFlowError(err, 'email_taken')).toBe(true);
    expect(isFusionFlowError(err, 'not_found')).toBe(false);
    expect(f.calls[0]!.url).toBe('/api/auth/register');
    expect(client.session).toBeNull();
  });

  it('maps an error without a JSON body to a code from its status', async () => {
    const f = fakeFetch(() => new Response('<h1>Bad Gateway</h1>', { status: 502, statusText: 'Bad Gateway' }));
    const client = new ApiClient({ fetch: f.fetch });
    await expect(client.getRoom('r1')).rejects.toMatchObject({
      code: 'internal_error',
      status: 502,
      message: 'HTTP 502 Bad Gateway',
    });
  });

  it('reports a network failure as network_error with status 0', async () => {
    const client = new ApiClient({
      fetch: () => Promise.reject(new TypeError('fetch failed')),
    });
    await expect(client.listRooms()).rejects.toMatchObject({ code: 'network_error', status: 0 });
  });

  it('rejects a response that does not match the protocol schema', async () => {
    const f = fakeFetch(() => json(200, { ...room, viewerCount: 'many' }));
    const client = new ApiClient({ fetch: f.fetch });
    const err = await client.getRoom('r1').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FusionFlowError);
    expect(err).toMatchObject({ code: 'invalid_response', status: 200 });
    expect((err as FusionFlowError).message).toContain('viewerCount');
  });

  it('rejects a success response that is not JSON', async () => {
    const f = fakeFetch(() => new Response('<!doctype html>', { status: 200 }));
    const client = new ApiClient({ fetch: f.fetch });
    await expect(client.listRooms()).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('builds list queries and encodes room ids', async () => {
    const f = fakeFetch((call) =>
      call.url.startsWith('/api/rooms?') ? json(200, { rooms: [room], nextCursor: null }) : json(200, room),
    );
    const client = new ApiClient({ fetch: f.fetch });
    const page = await client.listRooms({ status: 'live', limit: 10, cursor: undefined });
    expect(page.rooms).toHaveLength(1);
    await client.getRoom('a b/c');
    expect(f.calls.map((c) => c.url)).toEqual(['/api/rooms?status=live&limit=10', '/api/rooms/a%20b%2Fc']);
  });

  it('fetches a channel by handle, parsed with the Channel schema', async () => {
    const channel = {
      handle: 'ada',
      ownerId: 'u1',
      displayName: 'Ada',
      live: { ...room, status: 'live' },
      latestRoom: room,
    };
    const f = fakeFetch(() => json(200, channel));
    const client = new ApiClient({ fetch: f.fetch });
    expect(await client.getChannel('Ada')).toEqual(channel);
    expect(f.calls.map((c) => c.url)).toEqual(['/api/channels/Ada']);
    const bad = new ApiClient({ fetch: fakeFetch(() => json(200, { ...channel, live: 'yes' })).fetch });
    await expect(bad.getChannel('ada')).rejects.toMatchObject({ code: 'invalid_response' });
  });

  it('renames, hides and deletes a replay with the session token, parsed with the Replay schema', async () => {
    const replay = {
      id: 'rec00000001',
      roomId: 'r1',
      ownerId: 'u1',
      ownerName: 'Ada',
      title: 'New title',
      status: 'ready',
      startedAt: null,
      endedAt: null,
      durationMs: 1000,
      hidden: true,
      ticketPrice: null,
      createdAt: '2025-01-01T00:00:00.000Z',
    };
    const { client, calls } = await signedIn((call) =>
      call.method === 'DELETE' ? new Response(null, { status: 204 }) : json(200, replay),
    );
    expect(await client.updateReplay('rec00000001', { title: 'New title', hidden: true })).toEqual(replay);
    await expect(client.deleteReplay('rec 0/1')).resolves.toBeUndefined();
    expect(calls.slice(1)).toMatchObject([
      {
        url: 'http://api.test/api/replays/rec00000001',
        method: 'PATCH',
        body: { title: 'New title', hidden: true },
        headers: { authorization: 'Bearer old', 'content-type': 'application/json' },
      },
      { url: 'http://api.test/api/replays/rec%200%2F1', method: 'DELETE', body: undefined },
    ]);
    expect(calls[2]?.headers['content-type']).toBeUndefined();
    const refused = await signedIn(() => error(403, 'forbidden', 'not your replay'));
    await expect(refused.client.deleteReplay('rec00000001')).rejects.toMatchObject({ code: 'forbidden', status: 403 });
  });

  it('updates the held user after a profile change', async () => {
    const { client } = await signedIn(() => json(200, { ...user, language: 'es' }));
    const seen: string[] = [];
    client.on('session', (s) => seen.push(s?.user.language ?? 'none'));
    await client.updateMe({ language: 'es' });
    expect(client.session?.user.language).toBe('es');
    expect(seen).toEqual(['es']);
  });

  it('forgets the session on logout even when the server call fails', async () => {
    const { client, calls } = await signedIn(() => error(503, 'unavailable', 'down'));
    await expect(client.logout()).rejects.toMatchObject({ code: 'unavailable', status: 503 });
    expect(client.session).toBeNull();
    expect(calls[1]!.headers['content-type']).toBeUndefined();

    const ok = await signedIn(() => new Response(null, { status: 204 }));
    await ok.client.logout();
    expect(ok.client.accessToken).toBeNull();
    // The access token goes along (a guest has no refresh cookie to name its session).
    expect(ok.calls[1]!.headers.authorization).toBe('Bearer old');
  });

  it('forgets the session when the server says it was signed out, without trying to refresh', async () => {
    const { client, calls } = await signedIn(() => error(401, 'session_ended', 'this session was signed out'));
    const seen: (string | null)[] = [];
    client.on('session', (s) => seen.push(s?.accessToken ?? null));
    await expect(client.getMe()).rejects.toMatchObject({ code: 'session_ended', status: 401 });
    expect(client.session).toBeNull();
    expect(seen).toEqual([null]);
    expect(calls.map((c) => c.url.replace('http://api.test', ''))).toEqual(['/api/auth/login', '/api/me']);
  });

  it('fetches a fresh access token after a profile change, so its claims follow', async () => {
    const renamed = { ...user, displayName: 'Ada L', language: 'es' };
    const { client, calls } = await signedIn((call) =>
      call.url.endsWith('/api/auth/refresh') ? json(200, auth('fresh', renamed)) : json(200, renamed),
    );
    const result = await client.updateMe({ displayName: 'Ada L', language: 'es' });
    expect(result.displayName).toBe('Ada L');
    expect(calls.map((c) => `${c.method} ${new URL(c.url).pathname}`).slice(1)).toEqual([
      'PATCH /api/me',
      'POST /api/auth/refresh',
    ]);
    expect(client.accessToken).toBe('fresh');
  });
});
