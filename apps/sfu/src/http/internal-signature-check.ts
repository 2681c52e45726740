import { unauthorized, verifyInternalRequest } from '@fusionflow/kit';
import type { FastifyRequest } from 'fastify';

/** A preHandler refusing (401) an internal request (admin API, relays) not signed with the shared secret. */
export function internalSignatureCheck(secret: string) {
  return async (request: FastifyRequest): Promise<void> => {
    const path = request.url.split('?')[0]!;
    const body = typeof request.body === 'string' ? request.body : request.body ? JSON.stringify(request.body) : '';
    const result = verifyInternalRequest(secret, { method: request.method, path, body, headers: request.headers });
    if (result !== 'ok') throw unauthorized(`internal request signature ${result}`);
  };
}
