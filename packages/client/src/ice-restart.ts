/** The ICE part of an SDP or of an `application/trickle-ice-sdpfrag` body (RFC 8840). */
export interface IceCredentials {
  ufrag: string;
  pwd: string;
  /** `candidate:…` values (without the `a=`). */
  candidates: string[];
  endOfCandidates: boolean;
}

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');

/** The first ICE credentials and every (distinct) candidate of an SDP or fragment; undefined without credentials. */
export function iceCredentialsOf(text: string): IceCredentials | undefined {
  let ufrag: string | undefined;
  let pwd: string | undefined;
  const candidates: string[] = [];
  let endOfCandidates = false;
  for (const line of lines(text)) {
    if (line.startsWith('a=ice-ufrag:')) ufrag ??= line.slice(12).trim();
    else if (line.startsWith('a=ice-pwd:')) pwd ??= line.slice(10).trim();
    else if (line.startsWith('a=candidate:')) {
      const c = line.slice(2);
      if (!candidates.includes(c)) candidates.push(c);
    } else if (line === 'a=end-of-candidates') endOfCandidates = true;
  }
  if (!ufrag || !pwd) return undefined;
  return { ufrag, pwd, candidates, endOfCandidates };
}

/**
 * The body of an ICE restart PATCH (RFC 9725 §4.4.1): the new offer's credentials and the candidates it has so far,
 * in one media section (with BUNDLE every candidate is the first m-line's transport).
 */
export function iceRestartFragment(offer: string): string | undefined {
  const ice = iceCredentialsOf(offer);
  if (!ice) return undefined;
  const all = lines(offer);
  const mid = all.find((l) => l.startsWith('a=mid:'))?.slice(6) ?? '0';
  const out = [`a=ice-ufrag:${ice.ufrag}`, `a=ice-pwd:${ice.pwd}`, 'm=audio 9 UDP/TLS/RTP/SAVPF 0', `a=mid:${mid}`];
  for (const c of ice.candidates) out.push(`a=${c}`);
  if (ice.endOfCandidates) out.push('a=end-of-candidates');
  return `${out.join('\r\n')}\r\n`;
}

/**
 * The remote answer after an ICE restart: the previous answer with the server's new credentials (in every media
 * section and at session level, wherever the previous answer had them) and its new candidates (in the first media
 * section, the BUNDLE transport) instead of the old ones; everything else (codecs, directions, DTLS fingerprint,
 * mids) stays as it was.
 */
export function answerWithNewIce(previous: string, fragment: IceCredentials): string {
  const out: string[] = [];
  let section = -1;
  const addCandidates = () => {
    for (const c of fragment.candidates) out.push(`a=${c}`);
    if (fragment.endOfCandidates) out.push('a=end-of-candidates');
  };
  for (const line of lines(previous)) {
    if (line.startsWith('m=')) {
      if (section === 0) addCandidates();
      section++;
    }
    if (line.startsWith('a=candidate:') || line === 'a=end-of-candidates') continue;
    if (line.startsWith('a=ice-ufrag:')) out.push(`a=ice-ufrag:${fragment.ufrag}`);
    else if (line.startsWith('a=ice-pwd:')) out.push(`a=ice-pwd:${fragment.pwd}`);
    else out.push(line);
  }
  if (section === 0) addCandidates();
  return `${out.join('\r\n')}\r\n`;
}
