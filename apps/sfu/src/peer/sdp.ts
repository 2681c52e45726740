import { AppError, badRequest } from '@fusionflow/kit';
import { ErrorCode } from '@fusionflow/protocol';

const invalid = (message: string) => new AppError(ErrorCode.InvalidSdp, message);

/** Minimal checks before an offer reaches werift: an SDP offer with at least one audio or video m-line. */
export function checkOffer(sdp: string): void {
  if (!sdp.startsWith('v=0')) throw invalid('the body is not an SDP offer (it must start with v=0)');
  const media = sdp.match(/^m=(audio|video|application)\s/gm) ?? [];
  if (!/^m=(audio|video)\s/m.test(sdp)) throw invalid('the offer has no audio or video m-line');
  if (media.length > 16) throw invalid('the offer has too many m-lines');
  if (!/^a=fingerprint:/m.test(sdp)) throw invalid('the offer has no DTLS fingerprint');
  if (!/^a=ice-ufrag:/m.test(sdp) || !/^a=ice-pwd:/m.test(sdp)) throw invalid('the offer has no ICE credentials');
}

/**
 * RFC 8843 `a=bundle-only` m-lines come with port 0 (GStreamer's max-bundle does this); werift
 * would read that as rejected. Give them the placeholder port 9 the bundled transport uses.
 */
export function normalizeOffer(sdp: string): string {
  if (!sdp.includes('a=bundle-only')) return sdp;
  const sections = sdp.split(/(?=^m=)/m);
  return sections
    .map((section) =>
      section.startsWith('m=') && /^a=bundle-only\s*$/m.test(section)
        ? section.replace(/^(m=\S+) 0 /, '$1 9 ')
        : section,
    )
    .join('');
}

/**
 * The mids of the m-lines an (already normalized) offer rejects: port 0 (RFC 8829 5.3.1). werift
 * 0.24 keeps a transceiver for such an m-line without saying so; nothing is forwarded from it.
 */
export function rejectedMids(sdp: string): Set<string> {
  const mids = new Set<string>();
  for (const section of sdp.split(/(?=^m=)/m)) {
    if (!/^m=\S+ 0 /.test(section)) continue;
    const mid = /^a=mid:(\S+)/m.exec(section)?.[1];
    if (mid !== undefined) mids.add(mid);
  }
  return mids;
}

/** An `application/trickle-ice-sdpfrag` body (RFC 8840): credentials and candidates per m-line. */
export interface IceFragment {
  ufrag: string | undefined;
  pwd: string | undefined;
  /** Candidates with the mid (or index) of the m-line they belong to. */
  candidates: { candidate: string; sdpMid?: string; sdpMLineIndex?: number }[];
  endOfCandidates: boolean;
}

export function parseIceFragment(text: string): IceFragment {
  const out: IceFragment = { ufrag: undefined, pwd: undefined, candidates: [], endOfCandidates: false };
  let mid: string | undefined;
  let index = -1;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('m=')) {
      index++;
      mid = undefined;
    } else if (line.startsWith('a=ice-ufrag:')) out.ufrag = line.slice(12);
    else if (line.startsWith('a=ice-pwd:')) out.pwd = line.slice(10);
    else if (line.startsWith('a=mid:')) mid = line.slice(6);
    else if (line.startsWith('a=candidate:')) {
      out.candidates.push({
        candidate: line.slice(2),
        ...(mid !== undefined ? { sdpMid: mid } : {}),
        sdpMLineIndex: Math.max(index, 0),
      });
    } else if (line === 'a=end-of-candidates') out.endOfCandidates = true;
    else if (!/^a=(group|ice-options|extmap-allow-mixed|msid-semantic)/.test(line) && !/^[a-z]=/.test(line)) {
      throw badRequest(`not an ICE fragment line: ${line.slice(0, 80)}`);
    }
  }
  if ((out.ufrag === undefined) !== (out.pwd === undefined)) throw badRequest('give both a=ice-ufrag and a=ice-pwd');
  return out;
}

/** The offer again with new ICE credentials and candidates (an ICE restart re-applies it). */
export function withNewIce(offer: string, fragment: IceFragment): string {
  const lines = offer.split(/\r?\n/).filter((l) => l !== '');
  const out: string[] = [];
  for (const line of lines) {
    if (line.startsWith('a=candidate:') || line === 'a=end-of-candidates') continue;
    if (line.startsWith('a=ice-ufrag:')) out.push(`a=ice-ufrag:${fragment.ufrag}`);
    else if (line.startsWith('a=ice-pwd:')) out.push(`a=ice-pwd:${fragment.pwd}`);
    else out.push(line);
  }
  return `${out.join('\r\n')}\r\n`;
}

/** The ICE part of a local description, as the body of a PATCH answer (RFC 9725 §4.4.1). */
export function iceFragmentOf(sdp: string): string {
  const lines = sdp.split(/\r?\n/);
  const pick = (prefix: string) => lines.find((l) => l.startsWith(prefix));
  const out = [pick('a=ice-ufrag:'), pick('a=ice-pwd:')].filter(Boolean) as string[];
  const firstMedia = lines.findIndex((l) => l.startsWith('m='));
  const mid = lines.find((l) => l.startsWith('a=mid:'));
  if (firstMedia >= 0) out.push(lines[firstMedia]!, ...(mid ? [mid] : []));
  const seen = new Set<string>();
  for (const l of lines) {
    if (l.startsWith('a=candidate:') && !seen.has(l)) {
      seen.add(l);
      out.push(l);
    }
  }
  out.push('a=end-of-candidates');
  return `${out.join('\r\n')}\r\n`;
}

/** The ufrag of the first m-line: the ETag of a session's ICE session. */
export function iceUfragOf(sdp: string): string {
  return /^a=ice-ufrag:(.+)$/m.exec(sdp)?.[1]?.trim() ?? '';
}
