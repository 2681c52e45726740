import { describe, expect, it, vi } from 'vitest';
import { AccessTokens } from './access-tokens.js';
import { MemorySessionRevocations } from './session-revocations.js';

const session = { userId: 'u1' as never, role: 'viewer' as const, displayName: 'Ada', language: 'en' };

describe('AccessTokens', () => {
  it('verifies what it signed and refuses tampering', async () => {
    const tokens = new AccessTokens('s'.repeat(40), 60);
    const { token } = await tokens.sign(session);
    expect(await tokens.verify(token)).toMatchObject({ ...session, isGuest: false, sessionId: null });
    const [h, p, sig] = token.split('.');
    await expect(tokens.verify(`${h}.${p}.${sig!.slice(0, -2)}AA`)).rejects.toMatchObject({ code: 'unauthorized' });
    await expect(new AccessTokens('o'.repeat(40), 60).verify(token)).rejects.toMatchObject({ code: 'unauthorized' });
  });

  it('remembers a verified token only until it expires', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const tokens = new AccessTokens('s'.repeat(40), 60);
      const { token } = await tokens.sign(session);
      await tokens.verify(token);
      await tokens.verify(token); // from the cache
      vi.setSystemTime(Date.now() + 61_000);
      await expect(tokens.verify(token)).rejects.toMatchObject({ code: 'token_expired' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps the cache bounded, evicting the oldest, without changing an answer', async () => {
    const tokens = new AccessTokens('s'.repeat(40), 60, undefined, 3);
    const signed = await Promise.all([0, 1, 2, 3, 4].map((i) => tokens.sign({ ...session, userId: `u${i}` as never })));
    for (const t of signed) await tokens.verify(t.token);
    expect(tokens.cached).toBe(3);
    expect((await tokens.verify(signed[0]!.token)).userId).toBe('u0');
    expect(tokens.cached).toBe(3);
  });

  it("refuses a revoked session's tokens, cached or not, until the revocation expires", async () => {
    let now = 1_000_000;
    const revocations = new MemorySessionRevocations(() => now);
    try {
      const tokens = new AccessTokens('s'.repeat(40), 60, revocations);
      const a = await tokens.sign({ ...session, sessionId: 'family-1' });
      const b = await tokens.sign({ ...session, sessionId: 'family-1', displayName: 'Ada again' });
      const other = await tokens.sign({ ...session, sessionId: 'family-2' });
      expect((await tokens.verify(a.token)).sessionId).toBe('family-1');
      await tokens.revoke('family-1');
      await expect(tokens.verify(a.token)).rejects.toMatchObject({ code: 'session_ended' });
      await expect(tokens.verify(b.token)).rejects.toMatchObject({ code: 'session_ended' });
      expect((await tokens.verify(other.token)).sessionId).toBe('family-2');
      // Kept only as long as a token of the session can be valid (its lifetime and a little).
      now += 66_000;
      expect(await revocations.isRevoked('family-1')).toBe(false);
    } finally {
      await revocations.close();
    }
  });
});
