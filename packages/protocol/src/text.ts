import { z } from 'zod';

/**
 * Text the platform can store. PostgreSQL's `text` cannot hold U+0000 (NUL): a NUL that reached a
 * query would fail it (a 500), so no string on the wire may carry one. Every string schema in this
 * package is built from `text()` (or carries `noNul`); a test walks every schema to keep it so.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing NUL is the point
export const NO_NUL_PATTERN = /^[^\u0000]*$/;

/** The check itself, for string formats that are not built from `text()` (`z.iso.datetime()`). */
export const noNul = z.regex(NO_NUL_PATTERN, 'must not contain NUL (\\u0000) characters');

/** A string that refuses NUL characters; chain `.min()`, `.max()`, `.trim()`, `.regex()` as usual. */
export const text = () => z.string().check(noNul);
