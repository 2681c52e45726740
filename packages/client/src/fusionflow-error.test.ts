import { ClientErrorCode, ErrorCode, isKnownErrorCode } from '@fusionflow/protocol';
import { describe, expect, it } from 'vitest';
import { errorOfResponse, FusionFlowError, isFusionFlowError } from './fusionflow-error.js';

describe('FusionFlowError', () => {
  it('carries a code the protocol lists: the server codes and the client codes', () => {
    for (const code of [...Object.values(ErrorCode), ...Object.values(ClientErrorCode)]) {
      expect(isKnownErrorCode(code)).toBe(true);
      expect(new FusionFlowError(code, 'x').code).toBe(code);
    }
    const server = new Set<string>(Object.values(ErrorCode));
    expect(Object.values(ClientErrorCode).filter((c) => server.has(c))).toEqual([]);
  });

  it('takes a code the protocol does not list (a forged or newer server) as internal_error, keeping it aside', () => {
    const e = FusionFlowError.fromWire({ code: 'made_up', message: 'hello', event: 'join' });
    expect(e.code).toBe(ErrorCode.Internal);
    expect(e.serverCode).toBe('made_up');
    expect(e.event).toBe('join');
    expect(isFusionFlowError(e, ErrorCode.Internal)).toBe(true);
  });

  it('wraps anything thrown', () => {
    const e = FusionFlowError.from(new TypeError('boom'));
    expect(e).toBeInstanceOf(FusionFlowError);
    expect(e).toMatchObject({ code: 'internal_error', message: 'boom', status: 0 });
    const same = new FusionFlowError(ErrorCode.Banned, 'no');
    expect(FusionFlowError.from(same)).toBe(same);
  });

  it('reads an error response through the ErrorBody schema, and a malformed one by its status', async () => {
    const good = new Response(JSON.stringify({ error: { code: 'no_publisher', message: 'nobody is live' } }), {
      status: 404,
      headers: { 'x-request-id': 'r-1' },
    });
    expect(await errorOfResponse(good)).toMatchObject({
      code: 'no_publisher',
      message: 'nobody is live',
      status: 404,
      requestId: 'r-1',
    });
    // `code` present but not text: the schema refuses it, so the status decides.
    const forged = new Response(JSON.stringify({ error: { code: 42, message: 'x' } }), { status: 403 });
    expect(await errorOfResponse(forged)).toMatchObject({ code: 'bad_request', status: 403 });
    const html = new Response('<h1>Bad gateway</h1>', { status: 502 });
    expect(await errorOfResponse(html)).toMatchObject({ code: 'internal_error', status: 502 });
  });
});
