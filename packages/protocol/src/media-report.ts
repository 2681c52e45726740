import { z } from 'zod';

/**
 * What a client reports about one call, watch or publish session's media (POST /api/rooms/:id/media-reports): the seeds'
 * "join time" and "connection success rate", from the side that sees them (the browser). A session sends what it has
 * once it plays (join time, the path its connections took) and the rest when it ends (ICE failures, freezes); each
 * fact is in exactly one report. Every value is bounded and every label a closed enum, so a forged report can move a
 * counter by a little but never poison a histogram or add a series.
 */

/** `call`: a call room's mesh; `watch`: a live room's player (WHEP); `publish`: a live room's studio (WHIP). */
export const MediaReportKind = z.enum(['call', 'watch', 'publish']);
export type MediaReportKind = z.infer<typeof MediaReportKind>;

/** The local candidate type of a connection's selected ICE candidate pair (`relay`: through TURN). */
export const IceCandidateType = z.enum(['host', 'srflx', 'prflx', 'relay']);
export type IceCandidateType = z.infer<typeof IceCandidateType>;

/**
 * Why ICE let the session down: `connect_timeout` (not connected within the client's connect timeout), `failed` (the
 * connection's ICE state went `failed`), `restart_failed` (an ICE restart did not connect again).
 */
export const IceFailureReason = z.enum(['connect_timeout', 'failed', 'restart_failed']);
export type IceFailureReason = z.infer<typeof IceFailureReason>;

/** The longest join a report may carry, seconds: a longer one is no join anybody waited for (it is refused). */
export const MAX_JOIN_SECONDS = 300;
/** The most connections (per candidate type) or ICE failures (per reason) one report may count. */
export const MAX_REPORTED_CONNECTIONS = 32;
/** The most freezes one report may count. */
export const MAX_REPORTED_FREEZES = 1000;
/** The largest report body, bytes (a full report is about 200). */
export const MEDIA_REPORT_MAX_BYTES = 2048;

const count = (max: number) => z.number().int().min(0).max(max);

export const MediaReport = z
  .strictObject({
    kind: MediaReportKind,
    /** From the click on Join (a call) or the player starting (watch) to the first video frame decoded, seconds. */
    joinSeconds: z.number().gt(0).max(MAX_JOIN_SECONDS).optional(),
    /** Connections that came up, by the local candidate type they chose (a mesh call has one per other peer). */
    candidateTypes: z.partialRecord(IceCandidateType, count(MAX_REPORTED_CONNECTIONS)).optional(),
    /** ICE failures by reason. */
    iceFailures: z.partialRecord(IceFailureReason, count(MAX_REPORTED_CONNECTIONS)).optional(),
    /** Freezes: no new video frame decoded for at least a second while video was expected. */
    freezes: count(MAX_REPORTED_FREEZES).optional(),
  })
  // A studio decodes nothing: it has no join time (first frame decoded) and no freezes to tell.
  .refine((r) => r.kind !== 'publish' || (r.joinSeconds === undefined && r.freezes === undefined), {
    message: 'a publish report has no joinSeconds or freezes',
  });
export type MediaReport = z.infer<typeof MediaReport>;
