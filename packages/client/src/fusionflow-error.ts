import { type AnyErrorCode, ClientErrorCode, ErrorBody, ErrorCode, isKnownErrorCode } from '@fusionflow/protocol';

export interface FusionFlowErrorOptions {
  /** The HTTP status (0 when there was no HTTP response: real-time, network, local refusals). */
  status?: number;
  /** Extra detail from the server (e.g. the fields that failed validation). */
  details?: unknown;
  /** The `x-request-id` of the response, for matching a failure with the server's logs. */
  requestId?: string;
  /** Real-time: the client message that failed (`chat:send`, `join`). */
  event?: string;
  /** Real-time: the WebSocket close code when the server closed the connection because of it. */
  closeCode?: number;
  /** How long to wait before trying again (rate limits, mutes). */
  retryAfterSeconds?: number;
}

/**
 * The one failure shape of the SDK: every API call, media session, real-time request and chat
 * result fails with it. `code` is one of the protocol's `ErrorCode` (the server said so) or
 * `ClientErrorCode` (the client saw it: no answer, a bad answer, closed); the message is for
 * humans and logs. A code the protocol does not list (a newer server) arrives as `internal_error`
 * with the server's code in `serverCode`.
 */
export class FusionFlowError extends Error {
  override readonly name = 'FusionFlowError';
  readonly code: AnyErrorCode;
  readonly status: number;
  readonly details?: unknown;
  readonly requestId?: string;
  readonly event?: string;
  readonly closeCode?: number;
  readonly retryAfterSeconds?: number;
  /** The code as the server sent it, when the protocol does not list it. */
  readonly serverCode?: string;

  constructor(code: AnyErrorCode | (string & {}), message: string, o: FusionFlowErrorOptions = {}) {
    super(message);
    const known = isKnownErrorCode(code);
    this.code = known ? code : ErrorCode.Internal;
    if (!known) this.serverCode = code;
    this.status = o.status ?? 0;
    if (o.details !== undefined) this.details = o.details;
    if (o.requestId !== undefined) this.requestId = o.requestId;
    if (o.event !== undefined) this.event = o.event;
    if (o.closeCode !== undefined) this.closeCode = o.closeCode;
    if (o.retryAfterSeconds !== undefined) this.retryAfterSeconds = o.retryAfterSeconds;
  }

  /** A real-time error message (`error` event or a refused acknowledgement). */
  static fromWire(e: {
    code: string;
    message: string;
    event?: string | undefined;
    closeCode?: number | undefined;
    retryAfterSeconds?: number | undefined;
  }): FusionFlowError {
    return new FusionFlowError(e.code, e.message, {
      ...(e.event !== undefined ? { event: e.event } : {}),
      ...(e.closeCode !== undefined ? { closeCode: e.closeCode } : {}),
      ...(e.retryAfterSeconds !== undefined ? { retryAfterSeconds: e.retryAfterSeconds } : {}),
    });
  }

  /** Anything thrown, as a FusionFlowError (unexpected ones are `internal_error`). */
  static from(err: unknown): FusionFlowError {
    if (err instanceof FusionFlowError) return err;
    return new FusionFlowError(ErrorCode.Internal, err instanceof Error ? err.message : String(err));
  }
}

/** Whether `err` is a `FusionFlowError`, optionally with one of the given codes. */
export function isFusionFlowError(err: unknown, ...codes: AnyErrorCode[]): err is FusionFlowError {
  return err instanceof FusionFlowError && (codes.length === 0 || codes.includes(err.code));
}

/**
 * The error a failed HTTP response stands for: its `ErrorBody` (the protocol's one error shape)
 * when it has one, else a generic code from its status. Reads the body.
 */
export async function errorOfResponse(response: Response): Promise<FusionFlowError> {
  const requestId = response.headers.get('x-request-id') ?? undefined;
  const retryAfter = retryAfterSeconds(response);
  const ids = {
    ...(requestId === undefined ? {} : { requestId }),
    ...(retryAfter === undefined ? {} : { retryAfterSeconds: retryAfter }),
  };
  let body: unknown;
  try {
    body = JSON.parse(await response.text());
  } catch {
    // empty, unreadable or not JSON
  }
  const parsed = ErrorBody.safeParse(body);
  if (parsed.success) {
    const e = parsed.data.error;
    return new FusionFlowError(e.code, e.message, { status: response.status, details: e.details, ...ids });
  }
  return new FusionFlowError(
    response.status >= 500 ? ErrorCode.Internal : ErrorCode.BadRequest,
    `HTTP ${response.status} ${response.statusText}`.trim(),
    { status: response.status, ...ids },
  );
}

/** The seconds of a `Retry-After` header (delta-seconds form), or undefined. */
export function retryAfterSeconds(response: Response): number | undefined {
  const value = response.headers.get('retry-after');
  return value !== null && /^\d{1,6}$/.test(value.trim()) ? Number(value) : undefined;
}

/** A request that never got an answer. */
export function networkError(what: string, err: unknown): FusionFlowError {
  return new FusionFlowError(
    ClientErrorCode.NetworkError,
    `could not reach ${what}: ${err instanceof Error ? err.message : String(err)}`,
  );
}
