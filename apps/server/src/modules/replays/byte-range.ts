/** What a `Range` request header asks of a file of `size` bytes. */
export type ByteRange =
  /** No Range, or one this server ignores (several ranges, another unit, malformed): the whole file, 200. */
  | { kind: 'whole' }
  /** One satisfiable range, inclusive: 206 with `Content-Range: bytes start-end/size`. */
  | { kind: 'partial'; start: number; end: number }
  /** A well-formed range that the file cannot satisfy: 416 with `Content-Range: bytes *\/size`. */
  | { kind: 'unsatisfiable' };

/**
 * RFC 9110 §14.1.2 for a single range (`bytes=0-499`, `bytes=500-`, `bytes=-500`). A server may
 * ignore Range: several ranges or a header it cannot read get the whole file instead.
 */
export function parseByteRange(header: string | undefined, size: number): ByteRange {
  if (header === undefined) return { kind: 'whole' };
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return { kind: 'whole' };
  if (m[1] === '') {
    // A suffix: the last N bytes (all of them when the file is shorter).
    const length = Number(m[2]);
    if (length === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(m[1]);
  const last = m[2] === '' ? undefined : Number(m[2]);
  if (!Number.isSafeInteger(start) || (last !== undefined && (!Number.isSafeInteger(last) || last < start))) {
    return { kind: 'whole' };
  }
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: Math.min(last ?? size - 1, size - 1) };
}
