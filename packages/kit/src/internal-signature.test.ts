import { describe, expect, it } from 'vitest';
import { signInternalRequest, verifyInternalRequest } from './internal-signature.js';

describe('internal request signatures', () => {
  const secret = 'a-secret-shared-by-control-and-media';
  const signed = (at = Date.now()) => signInternalRequest(secret, 'POST', '/api/internal/sfu/events', '{"a":1}', at);

  it('accepts exactly what was signed, within 30 seconds', () => {
    const req = { method: 'POST', path: '/api/internal/sfu/events', body: '{"a":1}', headers: signed() };
    expect(verifyInternalRequest(secret, req)).toBe('ok');
    expect(verifyInternalRequest(secret, { ...req, body: '{"a":2}' })).toBe('invalid');
    expect(verifyInternalRequest(secret, { ...req, path: '/api/internal/sfu/admit' })).toBe('invalid');
    expect(verifyInternalRequest(secret, { ...req, method: 'DELETE' })).toBe('invalid');
    expect(verifyInternalRequest('another-secret-another-secret-xx', req)).toBe('invalid');
    expect(verifyInternalRequest(secret, { ...req, headers: signed(Date.now() - 60_000) })).toBe('stale');
    expect(verifyInternalRequest(secret, { ...req, headers: {} })).toBe('missing');
  });
});
