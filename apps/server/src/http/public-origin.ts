import type { FastifyRequest } from 'fastify';

/**
 * The origin the platform is reached at, for URLs it hands out (WHIP/WHEP in grants and stream
 * keys): `PUBLIC_URL` when set (behind a gateway), else what the request came to (with
 * `TRUST_PROXY`, the forwarded protocol and host).
 */
export function publicOriginOf(request: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl?.replace(/\/+$/, '') ?? `${request.protocol}://${request.host}`;
}
