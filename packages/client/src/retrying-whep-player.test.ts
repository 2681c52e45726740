import { describe, expect, it } from 'vitest';
import { FusionFlowError } from './fusionflow-error.js';
import { classifyWhepError, retriesByDefault } from './retrying-whep-player.js';

describe('what a WHEP failure means for retrying', () => {
  it('classifies answers: full (with Retry-After), other 5xx, no answer, refusals', () => {
    expect(
      classifyWhepError(new FusionFlowError('sfu_full', 'full', { status: 503, details: { retryAfterSeconds: 5 } })),
    ).toMatchObject({
      reason: 'full',
      retryAfterSeconds: 5,
    });
    expect(classifyWhepError(new FusionFlowError('unavailable', 'down', { status: 503 }))).toMatchObject({
      reason: 'unavailable',
    });
    expect(classifyWhepError(new FusionFlowError('internal_error', 'HTTP 502', { status: 502 }))).toMatchObject({
      reason: 'unavailable',
    });
    expect(classifyWhepError(new FusionFlowError('network_error', 'offline', { status: 0 }))).toMatchObject({
      reason: 'network',
    });
    expect(
      classifyWhepError(new FusionFlowError('no_publisher', 'none', { status: 409, retryAfterSeconds: 2 })),
    ).toMatchObject({ reason: 'waiting', retryAfterSeconds: 2 });
    expect(classifyWhepError(new FusionFlowError('room_full', 'full', { status: 403 }))).toMatchObject({
      reason: 'refused',
    });
    expect(classifyWhepError(new Error('setRemoteDescription failed'))).toMatchObject({ reason: 'refused' });
    // A forged details object is not a number of seconds.
    expect(
      classifyWhepError(new FusionFlowError('sfu_full', 'full', { status: 503, details: { retryAfterSeconds: '1e9' } }))
        .retryAfterSeconds,
    ).toBeUndefined();
  });

  it('retries transient failures by default, not refusals nor endings that another try cannot mend', () => {
    for (const reason of ['full', 'waiting', 'unavailable', 'network', 'ice_failed', 'closed'] as const)
      expect(retriesByDefault({ reason })).toBe(true);
    expect(retriesByDefault({ reason: 'refused' })).toBe(false);
    for (const endedReason of ['shutdown', 'ice_failed', 'ice_disconnected', 'ice_timeout'])
      expect(retriesByDefault({ reason: 'ended', endedReason })).toBe(true);
    for (const endedReason of ['publisher_left', 'room_closed', 'replaced', 'kicked', 'deleted'])
      expect(retriesByDefault({ reason: 'ended', endedReason })).toBe(false);
  });
});
