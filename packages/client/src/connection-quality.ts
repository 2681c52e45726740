/**
 * Connection quality from `RTCPeerConnection.getStats()`: what a receiving peer connection's media looks like now
 * (packet loss, round-trip time, frames decoded per second) and the path it takes (direct, or through a TURN relay).
 * Pure functions: `readStatsSample` reduces one report to its cumulative counters, `connectionQuality` compares two
 * samples (about a second apart) and grades the difference. The call's tiles and the live player use both.
 */

/** One `getStats()` entry, as the browser (or werift) gives it: a record with at least `id` and `type`. */
type StatsEntry = Record<string, unknown>;

/** What `getStats()` resolves to: an `RTCStatsReport`, or anything with the same `forEach`. */
export interface StatsReportLike {
  forEach(callback: (entry: StatsEntry) => void): void;
}

/** `direct`: host or server-reflexive candidates on both ends; `relay`: either end goes through TURN. */
export type MediaPath = 'direct' | 'relay';

export type QualityLevel = 'good' | 'fair' | 'poor' | 'unknown';

/** A report's cumulative counters (what arrived since the peer connection started) and its selected route. */
export interface StatsSample {
  /** When the report was taken, ms (the caller's clock). */
  at: number;
  /** RTP packets received and lost, audio and video together. */
  packetsReceived: number;
  packetsLost: number;
  /** Video frames decoded. */
  framesDecoded: number;
  /** Whether the stack counts decoded frames at all (werift, which decodes nothing, does not: see `videoPackets`). */
  decodesFrames: boolean;
  videoPackets: number;
  audioPackets: number;
  /** Round-trip time of the selected candidate pair (else of the remote-inbound-rtp reports), milliseconds. */
  rttMs: number | null;
  /** `host`, `srflx`, `prflx` or `relay`: the selected pair's candidates (null: no pair selected yet). */
  localCandidateType: string | null;
  remoteCandidateType: string | null;
}

/** What the user is shown about one connection. */
export interface ConnectionQuality {
  level: QualityLevel;
  /** Packets lost of those expected in the interval, percent (null: no packets expected in it). */
  lossPercent: number | null;
  rttMs: number | null;
  /** Video frames decoded per second over the interval (null: no earlier sample to compare with, or no decoder). */
  framesPerSecond: number | null;
  /** null until a candidate pair is selected. */
  path: MediaPath | null;
  localCandidateType: string | null;
  remoteCandidateType: string | null;
  /** Video frames decoded so far (cumulative). */
  framesDecoded: number;
}

export interface QualityThresholds {
  /** Loss percent up to which the level is good, and up to which it is fair. */
  lossGood: number;
  lossFair: number;
  /** Round-trip time (ms) up to which the level is good, and up to which it is fair. */
  rttGood: number;
  rttFair: number;
  /** Frames per second (while video is expected) from which the level is good, and from which it is fair. */
  fpsGood: number;
  fpsFair: number;
}

/**
 * Good is what a video call needs to feel live; poor is where people start talking over each other or the picture
 * stutters. Loss and RTT follow the usual VoIP planning figures (ITU-T G.114: under 150 ms one way is fine); a
 * picture under 5 frames a second is a slide show.
 */
export const DEFAULT_QUALITY_THRESHOLDS: QualityThresholds = {
  lossGood: 2,
  lossFair: 8,
  rttGood: 250,
  rttFair: 500,
  fpsGood: 12,
  fpsFair: 5,
};

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** The cumulative counters and the selected route of one `getStats()` report. */
export function readStatsSample(report: StatsReportLike, at: number): StatsSample {
  const byId = new Map<string, StatsEntry>();
  report.forEach((entry) => {
    byId.set(String(entry.id), entry);
  });
  const out: StatsSample = {
    at,
    packetsReceived: 0,
    packetsLost: 0,
    framesDecoded: 0,
    decodesFrames: false,
    videoPackets: 0,
    audioPackets: 0,
    rttMs: null,
    localCandidateType: null,
    remoteCandidateType: null,
  };
  let pair: StatsEntry | undefined;
  const remoteRtts: number[] = [];
  for (const s of byId.values()) {
    if (s.type === 'inbound-rtp') {
      const kind = s.kind ?? s.mediaType;
      const received = num(s.packetsReceived);
      out.packetsReceived += received;
      // packetsLost can be negative (duplicates): it never takes away from the others.
      out.packetsLost += Math.max(0, num(s.packetsLost));
      if (kind === 'video') {
        out.framesDecoded += num(s.framesDecoded);
        if (typeof s.framesDecoded === 'number') out.decodesFrames = true;
        out.videoPackets += received;
      } else if (kind === 'audio') out.audioPackets += received;
    } else if (s.type === 'transport' && typeof s.selectedCandidatePairId === 'string') {
      pair = byId.get(s.selectedCandidatePairId) ?? pair;
    } else if (s.type === 'remote-inbound-rtp' && typeof s.roundTripTime === 'number') {
      remoteRtts.push(s.roundTripTime);
    }
  }
  if (!pair) {
    // No transport entry names the selected pair (older browsers, werift): the nominated pair that succeeded.
    for (const s of byId.values()) {
      if (s.type === 'candidate-pair' && s.state === 'succeeded' && (s.nominated || s.selected)) {
        if (!pair || num(s.bytesReceived) > num(pair.bytesReceived)) pair = s;
      }
    }
  }
  if (pair) {
    out.localCandidateType = str(byId.get(String(pair.localCandidateId))?.candidateType);
    out.remoteCandidateType = str(byId.get(String(pair.remoteCandidateId))?.candidateType);
    if (typeof pair.currentRoundTripTime === 'number') out.rttMs = Math.round(pair.currentRoundTripTime * 1000);
  }
  if (out.rttMs === null && remoteRtts.length > 0) out.rttMs = Math.round(Math.max(...remoteRtts) * 1000);
  return out;
}

/** The path of a selected pair: relayed when either end is a TURN relay candidate. */
export function mediaPathOf(sample: Pick<StatsSample, 'localCandidateType' | 'remoteCandidateType'>): MediaPath | null {
  if (sample.localCandidateType === null && sample.remoteCandidateType === null) return null;
  return sample.localCandidateType === 'relay' || sample.remoteCandidateType === 'relay' ? 'relay' : 'direct';
}

export interface ConnectionQualityOptions {
  /** Whether the sender is expected to send video now (a camera off is no reason to call the connection poor). */
  expectVideo?: boolean;
  thresholds?: QualityThresholds;
}

/**
 * The quality of a connection between two samples of it (`previous` about a second before `current`; without one, or
 * after the counters went back, e.g. a new peer connection, only what needs no interval is known).
 */
export function connectionQuality(
  current: StatsSample,
  previous: StatsSample | undefined,
  options: ConnectionQualityOptions = {},
): ConnectionQuality {
  const comparable =
    previous !== undefined &&
    current.at > previous.at &&
    current.packetsReceived >= previous.packetsReceived &&
    current.framesDecoded >= previous.framesDecoded;
  let lossPercent: number | null = null;
  let framesPerSecond: number | null = null;
  if (comparable) {
    const received = current.packetsReceived - previous.packetsReceived;
    const lost = Math.max(0, current.packetsLost - previous.packetsLost);
    lossPercent = received + lost > 0 ? round1((lost / (received + lost)) * 100) : null;
    if (current.decodesFrames)
      framesPerSecond = round1(((current.framesDecoded - previous.framesDecoded) * 1000) / (current.at - previous.at));
  }
  const quality = {
    lossPercent,
    rttMs: current.rttMs,
    framesPerSecond,
    path: mediaPathOf(current),
    localCandidateType: current.localCandidateType,
    remoteCandidateType: current.remoteCandidateType,
    framesDecoded: current.framesDecoded,
  };
  return { level: qualityLevel(quality, options), ...quality };
}

/**
 * Good, fair or poor: the worst of what loss, round-trip time and (while video is expected, and the stack decodes
 * frames at all) the frame rate say; unknown while none of them is known.
 */
export function qualityLevel(
  q: Pick<ConnectionQuality, 'lossPercent' | 'rttMs' | 'framesPerSecond'>,
  options: ConnectionQualityOptions = {},
): QualityLevel {
  const t = options.thresholds ?? DEFAULT_QUALITY_THRESHOLDS;
  const grades: number[] = [];
  const lowerIsBetter = (v: number, good: number, fair: number) => (v <= good ? 0 : v <= fair ? 1 : 2);
  if (q.lossPercent !== null) grades.push(lowerIsBetter(q.lossPercent, t.lossGood, t.lossFair));
  if (q.rttMs !== null) grades.push(lowerIsBetter(q.rttMs, t.rttGood, t.rttFair));
  if (options.expectVideo && q.framesPerSecond !== null) {
    grades.push(q.framesPerSecond >= t.fpsGood ? 0 : q.framesPerSecond >= t.fpsFair ? 1 : 2);
  }
  if (grades.length === 0) return 'unknown';
  return (['good', 'fair', 'poor'] as const)[Math.max(...grades)]!;
}

const round1 = (v: number) => Math.round(v * 10) / 10;
