import { type ErrorBody, ErrorCode, httpStatusOf } from '@fusionflow/protocol';

/**
 * The one error class of the platform: a code from the protocol package and a message that is
 * safe to show to the client. Anything else that reaches an error handler is an internal error
 * and is reported without its message or stack.
 */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    /** Extra response headers, e.g. `retry-after`. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return httpStatusOf(this.code);
  }
}

export const badRequest = (message: string, details?: unknown) => new AppError(ErrorCode.BadRequest, message, details);
export const unauthorized = (message = 'sign in first', code: ErrorCode = ErrorCode.Unauthorized) =>
  new AppError(code, message);
export const forbidden = (message = 'not allowed', code: ErrorCode = ErrorCode.Forbidden) =>
  new AppError(code, message);
export const notFound = (message = 'not found', code: ErrorCode = ErrorCode.NotFound) => new AppError(code, message);
export const conflict = (message: string, code: ErrorCode = ErrorCode.Conflict) => new AppError(code, message);
/** A closed (or closing) service refusing work: `503 unavailable`, like mediasoup's InvalidStateError. */
export const unavailable = (message = 'the server is shutting down') => new AppError(ErrorCode.Unavailable, message);
export const rateLimited = (retryAfterSeconds: number, message = 'too many requests, slow down') =>
  new AppError(ErrorCode.RateLimited, message, { retryAfterSeconds }, { 'retry-after': String(retryAfterSeconds) });

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  headers: Record<string, string>;
}

interface FrameworkError {
  code?: unknown;
  statusCode?: unknown;
  validation?: unknown;
  message?: unknown;
}

/**
 * Map anything thrown by a handler (an AppError, a framework error from Fastify's body parser,
 * validator or rate limiter) to a status and the JSON error body. Never leaks a stack trace;
 * unknown errors become `internal_error`.
 */
export function toErrorResponse(err: unknown): ErrorResponse {
  if (err instanceof AppError) {
    const body: ErrorBody = { error: { code: err.code, message: err.message } };
    if (err.details !== undefined) body.error.details = err.details;
    return { status: err.status, body, headers: err.headers ?? {} };
  }
  const fe = (typeof err === 'object' && err !== null ? err : {}) as FrameworkError;
  const fcode = typeof fe.code === 'string' ? fe.code : '';
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  const message = typeof fe.message === 'string' ? fe.message : '';
  const make = (code: ErrorCode, msg: string, details?: unknown): ErrorResponse => {
    const body: ErrorBody = { error: { code, message: msg } };
    if (details !== undefined) body.error.details = details;
    return { status: httpStatusOf(code), body, headers: {} };
  };
  if (fe.validation !== undefined || fcode === 'FST_ERR_VALIDATION') {
    return make(ErrorCode.ValidationFailed, message || 'request failed validation', fe.validation);
  }
  switch (fcode) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return make(ErrorCode.PayloadTooLarge, 'request body too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return make(ErrorCode.UnsupportedMediaType, 'unsupported content type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return make(ErrorCode.MalformedJson, 'request body is empty but content-type is application/json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return make(ErrorCode.MalformedJson, 'request body is not valid JSON');
    // The router's own refusals (see `frameworkErrors` in the apps): never echo the path back.
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return make(ErrorCode.ValidationFailed, 'a path parameter is too long');
    case 'FST_ERR_BAD_URL':
      return make(ErrorCode.BadRequest, 'the URL is not valid');
  }
  if (err instanceof SyntaxError && status === 400)
    return make(ErrorCode.MalformedJson, 'request body is not valid JSON');
  if (status === 429) return make(ErrorCode.RateLimited, 'too many requests, slow down');
  if (status === 413) return make(ErrorCode.PayloadTooLarge, 'request body too large');
  if (status === 415) return make(ErrorCode.UnsupportedMediaType, 'unsupported content type');
  if (status === 404) return make(ErrorCode.NotFound, 'not found');
  if (status >= 400 && status < 500) return make(ErrorCode.BadRequest, message || 'bad request');
  return make(ErrorCode.Internal, 'internal error');
}
