import type { FetchLike } from './api-client.js';

/** After the first candidate, how long to wait for the rest of its batch (host candidates come together). */
const FIRST_BATCH_MS = 40;
/** Candidates found within this long of each other go in one PATCH. */
const PATCH_BATCH_MS = 20;

/**
 * Wait until the offer is worth sending: ICE gathering is complete, or the first candidates are there (then a moment
 * for the rest of their batch), or `timeoutMs` passed. The rest trickle by PATCH (`IceTrickle`), so a player behind
 * a UDP block does not wait for a TURN/UDP allocation that never completes before it even asks to play.
 */
export function firstCandidates(
  pc: RTCPeerConnection,
  timeoutMs: number,
  o: {
    /** Called before an ICE restart's setLocalDescription: the gathering already complete is the old one's. */
    fresh?: boolean;
  } = {},
): Promise<void> {
  if (!o.fresh && pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    let batch: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      clearTimeout(timer);
      clearTimeout(batch);
      pc.removeEventListener('icegatheringstatechange', onState);
      pc.removeEventListener('icecandidate', onCandidate);
      resolve();
    };
    const onState = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const onCandidate = (e: Event) => {
      const candidate = (e as RTCPeerConnectionIceEvent).candidate;
      if (!candidate) done();
      else batch ??= setTimeout(done, FIRST_BATCH_MS);
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', onState);
    pc.addEventListener('icecandidate', onCandidate);
  });
}

/** `a=candidate:` values an SDP already carries. */
function candidatesIn(sdp: string): Set<string> {
  return new Set(
    sdp
      .split(/\r?\n/)
      .filter((l) => l.startsWith('a=candidate:'))
      .map((l) => l.slice(2).trim()),
  );
}

/**
 * Trickle ICE for a WHIP/WHEP session (RFC 9725 4.3, RFC 8840): candidates found after the offer went out are sent
 * to the session URL as `PATCH application/trickle-ice-sdpfrag` (with the current local description's ICE
 * credentials, so it is not a restart, and `If-Match` with the session's ETag), batched, then `a=end-of-candidates`
 * once gathering completes. After an ICE restart (`restarting`, then `ready` again) it follows the new credentials.
 * Candidates found before the session URL is known wait for it. Best effort: a failed PATCH costs only that
 * candidate, never the session.
 */
export class IceTrickle {
  readonly #pending: RTCIceCandidate[] = [];
  #ended = false;
  #target: { location: string; etag: string | null; known: Set<string> } | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    private readonly pc: RTCPeerConnection,
    private readonly fetch: FetchLike,
  ) {
    pc.addEventListener('icecandidate', this.#onCandidate);
  }

  /** The session exists: send what was found since the offer (and what comes later). */
  ready(location: string, etag: string | null, offer: string): void {
    if (this.#closed) return;
    this.#target = { location, etag, known: candidatesIn(offer) };
    this.#schedule();
  }

  /**
   * An ICE restart begins: nothing more goes out with the old credentials (what was not sent yet is dropped), and
   * nothing with the new ones until `ready` names the restarted session again. Resolves once a PATCH still out has
   * been answered, so it cannot reach the server after the restart (where its old ufrag would restart ICE again).
   */
  async restarting(): Promise<void> {
    this.#target = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending.length = 0;
    this.#ended = false;
    await this.#inFlight;
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.pc.removeEventListener('icecandidate', this.#onCandidate);
  }

  readonly #onCandidate = (e: Event) => {
    if (this.#closed) return;
    const candidate = (e as RTCPeerConnectionIceEvent).candidate;
    if (candidate && candidate.candidate !== '') this.#pending.push(candidate);
    else this.#ended = true;
    this.#schedule();
  };

  #schedule(): void {
    if (!this.#target || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#inFlight = this.#flush();
    }, PATCH_BATCH_MS);
  }

  async #flush(): Promise<void> {
    const target = this.#target;
    if (!target || this.#closed) return;
    const fresh = this.#pending.splice(0).filter((c) => !target.known.has(c.candidate.trim()));
    for (const c of fresh) target.known.add(c.candidate.trim());
    const end = this.#ended;
    this.#ended = false;
    if (fresh.length === 0 && !end) return;
    const body = this.#fragment(fresh, end);
    if (body === undefined) return;
    const headers: Record<string, string> = { 'content-type': 'application/trickle-ice-sdpfrag' };
    if (target.etag) headers['if-match'] = target.etag;
    await this.fetch(target.location, { method: 'PATCH', headers, body }).catch(() => undefined);
  }

  #fragment(candidates: RTCIceCandidate[], end: boolean): string | undefined {
    const sdp = this.pc.localDescription?.sdp ?? '';
    const ufrag = /^a=ice-ufrag:(.+)$/m.exec(sdp)?.[1]?.trim();
    const pwd = /^a=ice-pwd:(.+)$/m.exec(sdp)?.[1]?.trim();
    if (!ufrag || !pwd) return undefined;
    const lines = [`a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`];
    // With BUNDLE every candidate is the first m-line's transport; one media section carries them all.
    const mid = candidates[0]?.sdpMid ?? /^a=mid:(.+)$/m.exec(sdp)?.[1]?.trim() ?? '0';
    lines.push('m=audio 9 UDP/TLS/RTP/SAVPF 0', `a=mid:${mid}`);
    for (const c of candidates) lines.push(`a=${c.candidate.trim()}`);
    if (end) lines.push('a=end-of-candidates');
    return `${lines.join('\r\n')}\r\n`;
  }
}
