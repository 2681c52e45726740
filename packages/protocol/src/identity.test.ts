import { describe, expect, it } from 'vitest';
import { RegisterRequest, UpdateMeRequest } from './identity.js';

describe('identity schemas', () => {
  it('normalises email and rejects unknown fields', () => {
    const ok = RegisterRequest.parse({ email: '  Ana@Example.COM ', password: 'correct horse', displayName: 'Ana' });
    expect(ok.email).toBe('ana@example.com');
    expect(RegisterRequest.safeParse({ ...ok, isAdmin: true }).success).toBe(false);
  });

  it('refuses roles that only an admin may grant', () => {
    const base = { email: 'a@b.co', password: 'long enough', displayName: 'A' };
    expect(RegisterRequest.safeParse({ ...base, role: 'streamer' }).success).toBe(true);
    for (const role of ['admin', 'moderator', 'studio', 'guest']) {
      expect(RegisterRequest.safeParse({ ...base, role }).success).toBe(false);
    }
  });

  it('needs at least one field to update the profile', () => {
    expect(UpdateMeRequest.safeParse({}).success).toBe(false);
    expect(UpdateMeRequest.safeParse({ language: 'pt-BR' }).success).toBe(true);
    expect(UpdateMeRequest.safeParse({ language: 'Spanish' }).success).toBe(false);
    expect(UpdateMeRequest.parse({ handle: ' Ann-Lee ' })).toEqual({ handle: 'ann-lee' });
    expect(UpdateMeRequest.safeParse({ handle: 'admin' }).success).toBe(false);
  });

  it('takes an optional handle at sign-up, lowercased', () => {
    const base = { email: 'a@b.co', password: 'long enough', displayName: 'A' };
    expect(RegisterRequest.parse(base).handle).toBeUndefined();
    expect(RegisterRequest.parse({ ...base, handle: 'Night-Owl' }).handle).toBe('night-owl');
    expect(RegisterRequest.safeParse({ ...base, handle: 'no' }).success).toBe(false);
  });
});
