/**
 * Where WHIP and WHEP live (RFC 9725): the SFU serves them, the control plane forwards them under
 * the same paths and names them in grants and stream-key answers, and clients fall back to them.
 * This is the one place that knows the layout:
 * `<base>/<publish|play>/<roomId>` (POST an offer), `<base>/sessions/<id>` (PATCH, DELETE) and its
 * `/events` (server-sent events) and, for WHEP, `/layer`.
 */
export const MEDIA_PATHS = {
  whip: { base: '/api/whip', endpoint: '/api/whip/publish' },
  whep: { base: '/api/whep', endpoint: '/api/whep/play' },
} as const;
export type MediaProtocol = keyof typeof MEDIA_PATHS;

/** Path (or, with an origin such as `https://live.example.com`, URL) of a room's WHIP endpoint. */
export const whipUrl = (roomId: string, origin = ''): string => `${origin}${MEDIA_PATHS.whip.endpoint}/${roomId}`;

/** Path (or, with an origin, URL) of a room's WHEP endpoint. */
export const whepUrl = (roomId: string, origin = ''): string => `${origin}${MEDIA_PATHS.whep.endpoint}/${roomId}`;

/** Path of a WHIP or WHEP session resource (the `Location` of a `201`). */
export const mediaSessionPath = (protocol: MediaProtocol, sessionId: string): string =>
  `${MEDIA_PATHS[protocol].base}/sessions/${sessionId}`;

/** Whether a request path is WHIP or WHEP (an endpoint or a session resource). */
export const isMediaPath = (path: string): boolean =>
  path.startsWith(`${MEDIA_PATHS.whip.base}/`) || path.startsWith(`${MEDIA_PATHS.whep.base}/`);

/** Whether a request path is a WHEP play offer's (a viewer joining). */
export const isWhepPlayPath = (path: string): boolean => path.startsWith(`${MEDIA_PATHS.whep.endpoint}/`);

/**
 * Several SFU nodes: a grant's WHIP/WHEP URL names the node it was placed on as `?node=<id>`, and
 * the control plane's forwarder names it in the session URLs it hands back as `<node>~<session>`
 * (`/api/whep/sessions/n1~abc`), so PATCH, DELETE, `/events` and `/layer` reach the same node.
 * Without a node (one SFU), URLs are exactly as above.
 */
export const MEDIA_NODE_PARAM = 'node';
export const NODE_SESSION_SEPARATOR = '~';

/** A WHIP/WHEP endpoint URL on a named node (none: the plain URL). */
export const onMediaNode = (url: string, node: string | undefined): string =>
  node === undefined ? url : `${url}${url.includes('?') ? '&' : '?'}${MEDIA_NODE_PARAM}=${encodeURIComponent(node)}`;

/**
 * The node a forwarded WHIP/WHEP request names and the path to send to that node (the node taken
 * out): `/api/whep/play/r?node=n1` → n1, `/api/whep/play/r`; `/api/whep/sessions/n1~abc/events` →
 * n1, `/api/whep/sessions/abc/events`. `node` is undefined when the request names none.
 */
export function splitMediaNode(url: string): { node: string | undefined; url: string } {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
  for (const protocol of Object.keys(MEDIA_PATHS) as MediaProtocol[]) {
    const prefix = `${MEDIA_PATHS[protocol].base}/sessions/`;
    if (!path.startsWith(prefix)) continue;
    const rest = path.slice(prefix.length);
    const sep = rest.indexOf(NODE_SESSION_SEPARATOR);
    const slash = rest.indexOf('/');
    if (sep <= 0 || (slash >= 0 && sep > slash)) return { node: undefined, url };
    return {
      node: decodeURIComponent(rest.slice(0, sep)),
      url: `${prefix}${rest.slice(sep + 1)}${q < 0 ? '' : url.slice(q)}`,
    };
  }
  const node = params.get(MEDIA_NODE_PARAM) ?? undefined;
  if (node === undefined) return { node, url };
  params.delete(MEDIA_NODE_PARAM);
  const query = params.toString();
  return { node, url: query ? `${path}?${query}` : path };
}

/** A session URL (a `Location`, or a `Link` naming one) as the forwarder hands it back for a node. */
export function sessionPathOnNode(value: string, node: string): string {
  return value.replace(
    /(\/api\/wh[ie]p\/sessions\/)([^/>?\s]+)/g,
    (_m, prefix: string, id: string) => `${prefix}${encodeURIComponent(node)}${NODE_SESSION_SEPARATOR}${id}`,
  );
}
