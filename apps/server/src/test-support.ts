import { type ServerConfig, testServerConfig } from './config.js';
import type { DatabaseHandle } from './db/database.js';
import type { TestDatabase } from './db/test-databases.js';
import { createPlatform, type Platform, type PlatformOptions } from './main.js';

export interface CallOptions {
  body?: unknown;
  token?: string;
  cookie?: string;
  headers?: Record<string, string>;
  ip?: string;
  /** Send this exact payload (malformed JSON, other content types). */
  raw?: string;
}

export interface CallResult<T = any> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | number | undefined>;
  /** Value of the refresh cookie if the response set one. */
  refreshCookie: string | undefined;
}

/** A platform on a fresh test database, driven through Fastify's inject (no socket). */
export interface TestPlatform {
  platform: Platform;
  database: DatabaseHandle;
  call<T = any>(method: string, url: string, options?: CallOptions): Promise<CallResult<T>>;
  /** Register an account and return its access token and id. */
  signUp(
    name: string,
    options?: { role?: 'viewer' | 'streamer'; language?: string },
  ): Promise<{ token: string; id: string; email: string; cookie: string }>;
  /** Register and promote to an admin-granted role. */
  signUpAs(name: string, role: 'studio' | 'moderator' | 'admin'): Promise<{ token: string; id: string }>;
  count(table: 'users' | 'rooms' | 'refresh_tokens'): Promise<number>;
  close(): Promise<void>;
}

let seq = 0;

export async function startTestPlatform(
  db: TestDatabase,
  overrides: Partial<ServerConfig> = {},
  options: Omit<PlatformOptions, 'database'> = {},
): Promise<TestPlatform> {
  const database = await db.open();
  let platform: Platform;
  try {
    platform = await createPlatform(testServerConfig(overrides), { ...options, database });
  } catch (err) {
    await database.close();
    throw err;
  }
  const call: TestPlatform['call'] = async (method, url, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.cookie) headers.cookie = `ff_refresh=${o.cookie}`;
    let payload: string | undefined;
    if (o.raw !== undefined) payload = o.raw;
    else if (o.body !== undefined) {
      payload = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await platform.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(payload !== undefined ? { payload } : {}),
      remoteAddress: o.ip ?? '127.0.0.1',
    });
    const cookie = res.cookies.find((c) => c.name === 'ff_refresh');
    let body: unknown = res.body;
    if (String(res.headers['content-type'] ?? '').includes('json') && res.body) body = res.json();
    return {
      status: res.statusCode,
      body: body as never,
      headers: res.headers,
      refreshCookie: cookie && cookie.value !== '' ? cookie.value : undefined,
    };
  };
  const signUp: TestPlatform['signUp'] = async (name, options = {}) => {
    const email = `${name.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${process.pid}-${++seq}@example.com`;
    const res = await call('POST', '/api/auth/register', {
      body: { email, password: 'correct horse battery', displayName: name, ...options },
    });
    if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
    return { token: res.body.accessToken, id: res.body.user.id, email, cookie: res.refreshCookie! };
  };
  return {
    platform,
    database,
    call,
    signUp,
    signUpAs: async (name, role) => {
      const user = await signUp(name);
      await database.db.updateTable('users').set({ role }).where('id', '=', user.id).execute();
      const again = await call('POST', '/api/auth/login', {
        body: { email: user.email, password: 'correct horse battery' },
      });
      return { token: again.body.accessToken, id: user.id };
    },
    count: async (table) => {
      const row = await database.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    close: async () => {
      await platform.close();
      await database.close();
    },
  };
}
