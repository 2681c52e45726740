import { ErrorBody, ErrorCode } from '@fusionflow/protocol';

/** Codes the client itself reports, for failures that never produced a server error body. */
export const ClientErrorCode = {
  /** The request never got an answer (offline, DNS, connection refused, aborted). */
  NetworkError: 'network_error',
  /** The server answered with something that does not match the protocol schema. */
  InvalidResponse: 'invalid_response',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/**
 * An API call that failed. `code` is the server's error code (see `ErrorCode` in the protocol)
 * or one of `ClientErrorCode`; `status` is the HTTP status (0 when there was no response).
 */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: ErrorCode | ClientErrorCode | (string & {}),
    readonly status: number,
    message: string,
    /** Extra detail from the server (e.g. the fields that failed validation). */
    readonly details?: unknown,
    /** The `x-request-id` of the response, for matching a failure with the server's logs. */
    readonly requestId?: string,
  ) {
    super(message);
  }
}

/** Whether `err` is an `ApiError`, optionally with one of the given codes. */
export function isApiError(err: unknown, ...codes: string[]): err is ApiError {
  return err instanceof ApiError && (codes.length === 0 || codes.includes(err.code));
}

/**
 * The error a failed response stands for: its `ErrorBody` (the protocol's one error shape) when it
 * has one, else a generic code from its status. Reads the body.
 */
export async function errorOfResponse(response: Response): Promise<ApiError> {
  const requestId = response.headers.get('x-request-id') ?? undefined;
  let body: unknown;
  try {
    body = JSON.parse(await response.text());
  } catch {
    // empty, unreadable or not JSON
  }
  const parsed = ErrorBody.safeParse(body);
  if (parsed.success) {
    const e = parsed.data.error;
    return new ApiError(e.code, response.status, e.message, e.details, requestId);
  }
  return new ApiError(
    response.status >= 500 ? ErrorCode.Internal : ErrorCode.BadRequest,
    response.status,
    `HTTP ${response.status} ${response.statusText}`.trim(),
    undefined,
    requestId,
  );
}
