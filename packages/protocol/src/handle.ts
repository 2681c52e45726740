import type { z } from 'zod';
import { text } from './text.js';

/**
 * Words no channel may take: the web app's own top-level routes (a channel lives at `/c/<handle>`, but a
 * handle should never read as a page of the site) and names that would pass for the platform speaking.
 */
export const RESERVED_HANDLES: ReadonlySet<string> = new Set([
  // routes of the web app and the API
  'admin',
  'api',
  'c',
  'channels',
  'create',
  'earnings',
  'forgot-password',
  'login',
  'logout',
  'me',
  'profile',
  'replays',
  'reset-password',
  'rooms',
  'settings',
  'signin',
  'signout',
  'signup',
  'wallet',
  // served next to the app
  'assets',
  'docs',
  'health',
  'metrics',
  'static',
  'well-known',
  // the platform speaking
  'anonymous',
  'fusionflow',
  'guest',
  'help',
  'moderator',
  'null',
  'official',
  'root',
  'staff',
  'support',
  'system',
  'undefined',
]);

export const HANDLE_MIN = 3;
export const HANDLE_MAX = 30;

/**
 * A channel's permanent address (`/c/<handle>`): 3–30 lowercase letters, digits and '-', not starting or
 * ending with '-', not a reserved word. Compared case-insensitively: input is lowercased first.
 */
export const Handle = text()
  .trim()
  .toLowerCase()
  .min(HANDLE_MIN, `handle must be at least ${HANDLE_MIN} characters`)
  .max(HANDLE_MAX, `handle must be at most ${HANDLE_MAX} characters`)
  .regex(/^[a-z0-9-]+$/, 'handle may contain only letters a–z, digits and "-"')
  .regex(/^[a-z0-9](.*[a-z0-9])?$/, 'handle must not start or end with "-"')
  .refine((h) => !RESERVED_HANDLES.has(h), { message: 'this handle is reserved' });
export type Handle = z.infer<typeof Handle>;

/** Whether a string is a valid handle as it stands (already lowercase). */
export function isHandle(value: string): boolean {
  const parsed = Handle.safeParse(value);
  return parsed.success && parsed.data === value;
}

/** A display name as a handle's stem: lowercase a–z, 0–9 and '-', accents dropped (may be short or reserved). */
export function handleStem(displayName: string): string {
  return displayName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, HANDLE_MAX)
    .replace(/-+$/, '');
}

/**
 * Handles derived from a display name, in the order to try them: the stem itself when it is a valid handle,
 * then the stem with `-2`, `-3`, … (shortened so the suffix fits). A name with no usable letters gives `user-…`.
 */
export function handleCandidates(displayName: string, count: number, from = 1): string[] {
  const stem = handleStem(displayName) || 'user';
  const out: string[] = [];
  for (let n = from; out.length < count; n++) {
    if (n === 1) {
      if (isHandle(stem)) out.push(stem);
      continue;
    }
    const suffix = `-${n}`;
    const candidate = `${stem.slice(0, HANDLE_MAX - suffix.length).replace(/-+$/, '')}${suffix}`;
    if (isHandle(candidate)) out.push(candidate);
  }
  return out;
}
