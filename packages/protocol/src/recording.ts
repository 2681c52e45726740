import { z } from 'zod';
import { RoomId } from './ids.js';
import { text } from './text.js';

/**
 * Recordings of broadcasts: the control plane decides whether a broadcast is recorded and names the
 * recording in the publisher's grant (`GrantClaims.rec`); the SFU records it and reports the files
 * (POST /api/internal/sfu/recordings, signed like every internal request).
 */

/** `webm`: one WebM file with audio and video (VP8/VP9 + Opus); `ivf-ogg`: one IVF per video track, one Ogg per audio track. */
export const RecordingFormat = z.enum(['webm', 'ivf-ogg']);
export type RecordingFormat = z.infer<typeof RecordingFormat>;

/** Recording ids are minted by the control plane (one per broadcast); safe in file names and object keys. */
export const RecordingId = text().regex(/^[A-Za-z0-9_-]{8,64}$/, 'a recording id');
export type RecordingId = z.infer<typeof RecordingId>;

/** The grant claim telling the SFU to record this publisher's broadcast. */
export const RecordingClaim = z.strictObject({ id: RecordingId, format: RecordingFormat });
export type RecordingClaim = z.infer<typeof RecordingClaim>;

/** Where one recorded file is: on the SFU's disk (`local`, key relative to its recordings dir) or in the S3 bucket. */
export const RecordingFile = z.strictObject({
  name: text().regex(/^[A-Za-z0-9_.-]{1,128}$/),
  storage: z.enum(['local', 's3']),
  key: text().min(1).max(512),
  bytes: z.number().int().min(0),
  contentType: text().max(64),
});
export type RecordingFile = z.infer<typeof RecordingFile>;

/**
 * SFU → control plane when a recording's files are final (the broadcast ended, its publisher grace
 * ran out) and again when their storage changes (`local` → `s3` after an upload). Idempotent by `id` + `storage`.
 */
export const RecordingReport = z.strictObject({
  id: RecordingId,
  room: RoomId,
  format: RecordingFormat,
  /** `recording`: still being written; `ready`: final and playable; `failed`: nothing usable was written. */
  status: z.enum(['recording', 'ready', 'failed']),
  startedAt: text().max(64),
  endedAt: text().max(64).nullable(),
  durationMs: z.number().int().min(0),
  files: z.array(RecordingFile).max(16),
});
export type RecordingReport = z.infer<typeof RecordingReport>;
