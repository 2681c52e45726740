import { vi } from 'vitest';

/**
 * Component tests talk to the real API client over a stubbed `fetch`: each route answers with a JSON body
 * (or an error status), so the responses go through the protocol's schemas as in the browser. A route that is a
 * function is given the request (its method and body), and a `null` body answers with no content (204).
 */
export type FakeRoute =
  | { status?: number; body: unknown }
  | ((init?: RequestInit) => { status?: number; body: unknown });

export function stubFetch(routes: Record<string, FakeRoute>) {
  const calls: string[] = [];
  const fetch = vi.fn(async (input: string, init?: RequestInit) => {
    const path = String(input);
    calls.push(`${init?.method ?? 'GET'} ${path}`);
    const key = Object.keys(routes).find((k) => k === path || (k.endsWith('*') && path.startsWith(k.slice(0, -1))));
    const route =
      key === undefined ? { status: 404, body: { error: { code: 'not_found', message: 'no route' } } } : routes[key];
    const { status = 200, body } =
      typeof route === 'function' ? route(init) : (route as { status?: number; body: unknown });
    if (body === null) return new Response(null, { status });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fetch);
  return { fetch, calls };
}

export const apiError = (status: number, code: string) => ({ status, body: { error: { code, message: code } } });
