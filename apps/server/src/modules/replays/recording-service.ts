import { randomBytes } from 'node:crypto';
import { conflict, notFound } from '@fusionflow/kit';
import {
  ErrorCode,
  type RecordingClaim,
  type RecordingFile,
  type RecordingFormat,
  type RecordingReport,
} from '@fusionflow/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

export interface RecordingServiceOptions {
  db: Kysely<Database>;
  format: RecordingFormat;
}

/**
 * The control plane's side of recording: decides which broadcast is recorded (names the recording
 * in the publisher's grant) and keeps what the SFU reports of its files.
 */
export class RecordingService {
  constructor(private readonly o: RecordingServiceOptions) {}

  /**
   * The recording a publish grant for this room carries: the room's recording still pending or
   * being written (a publisher that reconnects continues it), else a new one; none when the room
   * does not record.
   */
  async claimFor(roomId: string): Promise<RecordingClaim | null> {
    const room = await this.o.db
      .selectFrom('rooms')
      .select(['id', 'owner_id', 'kind', 'record', 'title'])
      .where('id', '=', roomId)
      .executeTakeFirst();
    if (room?.kind !== 'live' || !room.record) return null;
    // One open recording per room (a partial unique index): of grants issued at once, one insert
    // wins and every other finds the winner's row.
    const open = () =>
      this.o.db
        .selectFrom('recordings')
        .select(['id', 'format'])
        .where('room_id', '=', roomId)
        .where('status', 'in', ['pending', 'recording'])
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const existing = await open();
      if (existing) return { id: existing.id, format: existing.format };
      const inserted = await this.o.db
        .insertInto('recordings')
        .values({
          id: randomBytes(16).toString('base64url'),
          room_id: roomId,
          owner_id: room.owner_id,
          status: 'pending',
          format: this.o.format,
          title: room.title,
          started_at: null,
          ended_at: null,
          deleted_at: null,
          created_at: new Date(),
        })
        .onConflict((oc) =>
          oc
            .column('room_id')
            .where('status', 'in', ['pending', 'recording'])
            .where('deleted_at', 'is', null)
            .doNothing(),
        )
        .returning(['id', 'format'])
        .executeTakeFirst();
      if (inserted) return { id: inserted.id, format: inserted.format };
      // Lost the race; the winner's row is there now (unless it was finished in between: try again).
    }
    throw conflict('could not claim a recording for the room; try again');
  }

  /**
   * What the SFU says of a recording (idempotent: the same report twice changes nothing). A ready
   * recording stays ready: a later report may only move its files (local → s3).
   */
  async report(report: RecordingReport): Promise<void> {
    const row = await this.o.db
      .selectFrom('recordings')
      .select(['id', 'room_id', 'status', 'deleted_at', 'files'])
      .where('id', '=', report.id)
      .executeTakeFirst();
    if (!row) throw notFound(`no recording ${report.id}`, ErrorCode.RecordingNotFound);
    if (row.room_id !== report.room)
      throw conflict('the recording belongs to another room', ErrorCode.RecordingRoomMismatch);
    if (row.deleted_at !== null) {
      // Deleted while the SFU was still writing or uploading it: what it reports now (an object
      // uploaded after the delete) is noted for the replay sweep to remove; nothing else changes.
      const known: RecordingFile[] = JSON.parse(row.files);
      const key = (f: RecordingFile) => `${f.storage} ${f.key}`;
      const added = report.files.filter((f) => !known.some((k) => key(k) === key(f)));
      if (added.length > 0) {
        await this.o.db
          .updateTable('recordings')
          .set({ files: JSON.stringify([...known, ...added]) })
          .where('id', '=', report.id)
          .execute();
      }
      return;
    }
    if (row.status === 'ready' && report.status !== 'ready') return;
    await this.o.db
      .updateTable('recordings')
      .set({
        status: report.status,
        format: report.format,
        started_at: new Date(report.startedAt),
        ended_at: report.endedAt ? new Date(report.endedAt) : null,
        duration_ms: report.durationMs,
        ...(report.files.length > 0 || report.status !== 'recording' ? { files: JSON.stringify(report.files) } : {}),
      })
      .where('id', '=', report.id)
      .execute();
  }
}
