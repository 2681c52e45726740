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
