import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

/** What the compatible server does besides translating (tests of failure handling). */
export interface LibreTranslateBehaviour {
  /** Answer every /translate after this many ms. */
  delayMs?: number;
  /** Answer every /translate with HTTP 500. */
  fail?: boolean;
  /** Required api_key (403 without it, as LibreTranslate answers). */
  apiKey?: string;
}

export interface LibreTranslateServer {
  url: string;
  /** Requests to /translate so far. */
  translateRequests: number;
  behaviour: LibreTranslateBehaviour;
  close(): Promise<void>;
}

const ISO1_TO_APERTIUM: Record<string, string> = { en: 'eng', es: 'spa', ca: 'cat', fr: 'fra', pt: 'por' };

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

/**
 * A LibreTranslate-compatible server for tests (LibreTranslate itself cannot be installed on these
 * machines): the documented contract — `GET /languages` answers `[{ code, name, targets }]`,
 * `POST /translate` takes `{ q, source, target, format, api_key? }` (JSON or form) and answers
 * `{ translatedText }` or `{ error }` with 400/403/500 — and the translating done by a real
 * Apertium APy behind it. It listens on 127.0.0.1 only.
 */
export async function startLibreTranslate(
  apertiumUrl: string,
  behaviour: LibreTranslateBehaviour = {},
): Promise<LibreTranslateServer> {
  const pairsRes = await fetch(`${apertiumUrl}/listPairs`);
  const pairs = ((await pairsRes.json()) as { responseData: { sourceLanguage: string; targetLanguage: string }[] })
    .responseData;
  const toIso1 = new Map(Object.entries(ISO1_TO_APERTIUM).map(([k, v]) => [v, k]));
  const targets = new Map<string, Set<string>>();
  for (const p of pairs) {
    const s = toIso1.get(p.sourceLanguage);
    const t = toIso1.get(p.targetLanguage);
    if (!s || !t) continue;
    if (!targets.has(s)) targets.set(s, new Set());
    targets.get(s)!.add(t);
  }
  const state: LibreTranslateServer = {
    url: '',
    translateRequests: 0,
    behaviour,
    close: async () => {},
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method === 'GET' && path === '/languages') {
        send(
          res,
          200,
          [...targets.entries()].map(([code, t]) => ({ code, name: code, targets: [...t] })),
        );
        return;
      }
      if (req.method === 'POST' && path === '/translate') {
        state.translateRequests += 1;
        let body: Record<string, unknown>;
        try {
          const raw = await readBody(req, 64 * 1024);
          body = (req.headers['content-type'] ?? '').includes('application/json')
            ? (JSON.parse(raw) as Record<string, unknown>)
            : Object.fromEntries(new URLSearchParams(raw));
        } catch {
          send(res, 400, { error: 'Invalid request' });
          return;
        }
        if (state.behaviour.delayMs) await new Promise((r) => setTimeout(r, state.behaviour.delayMs));
        if (state.behaviour.fail) {
          send(res, 500, { error: 'engine exploded' });
          return;
        }
        if (state.behaviour.apiKey && body.api_key !== state.behaviour.apiKey) {
          send(res, 403, { error: 'Invalid API key' });
          return;
        }
        const { q, source, target } = body;
        if (typeof q !== 'string' || typeof source !== 'string' || typeof target !== 'string') {
          send(res, 400, { error: 'Invalid request: missing q, source or target parameter' });
          return;
        }
        const s = ISO1_TO_APERTIUM[source];
        const t = ISO1_TO_APERTIUM[target];
        if (!s || !t || !targets.get(source)?.has(target)) {
          send(res, 400, { error: `${source} → ${target} is not supported (language not available)` });
          return;
        }
        const query = new URLSearchParams({ langpair: `${s}|${t}`, q, markUnknown: 'no' });
        const answer = await fetch(`${apertiumUrl}/translate?${query}`);
        const json = (await answer.json()) as { responseData?: { translatedText: string } };
        if (!answer.ok || !json.responseData) {
          send(res, 500, { error: 'translation failed' });
          return;
        }
        send(res, 200, { translatedText: json.responseData.translatedText });
        return;
      }
      send(res, 404, { error: 'Not Found' });
    })().catch(() => send(res, 500, { error: 'internal error' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  state.url = `http://127.0.0.1:${address.port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
