import { AppError, unauthorized, verifyInternalRequest } from '@fusionflow/kit';
import { ErrorCode } from '@fusionflow/protocol';
import type { FastifyRequest } from 'fastify';

/**
 * The JSON body of a signed internal request (the SFU's events, admissions and node reports), once its
 * signature (INTERNAL_SECRET, see kit's `signInternalRequest`) checks out over exactly the bytes sent. The
 * route's scope must parse `application/json` as a string. A missing, forged or stale signature is a 401;
 * a body that is not JSON, a 400 `malformed_json`. Schema checks stay with each route.
 */
export function signedInternalJson(secret: string, request: FastifyRequest): unknown {
  const body = typeof request.body === 'string' ? request.body : '';
  const check = verifyInternalRequest(secret, {
    method: request.method,
    path: request.url.split('?')[0]!,
    body,
    headers: request.headers,
  });
  if (check !== 'ok') throw unauthorized(`internal request signature ${check}`);
  try {
    return JSON.parse(body);
  } catch {
    throw new AppError(ErrorCode.MalformedJson, 'request body is not valid JSON');
  }
}
