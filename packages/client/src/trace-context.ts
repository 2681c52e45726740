/**
 * A W3C trace context (`traceparent`) for one media session: the browser is the root of the trace,
 * and sends the same header with the grant request and every WHIP/WHEP request of the session, so
 * the control plane (grant, forwarder) and the SFU (session) put their spans in one trace.
 * Servers without tracing ignore it.
 */
export function newTraceparent(): string {
  const hex = (bytes: number) =>
    Array.from(globalThis.crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join(
      '',
    );
  return `00-${hex(16)}-${hex(8)}-01`;
}

/** Whether a string is a well-formed version-00 traceparent (not all-zero ids). */
export function isTraceparent(value: string): boolean {
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(value);
  return m !== null && !/^0+$/.test(m[1]!) && !/^0+$/.test(m[2]!);
}
