import { type Kysely, sql } from 'kysely';

/**
 * At most one open recording (pending or being written) per room: two publish grants issued at
 * once must name the same recording. Rooms that already have several keep the newest; the older
 * ones are marked failed (nothing ever finished them).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    update recordings set status = 'failed'
    where status in ('pending', 'recording') and deleted_at is null
      and exists (
        select 1 from recordings newer
        where newer.room_id = recordings.room_id
          and newer.status in ('pending', 'recording') and newer.deleted_at is null
          and (newer.created_at, newer.id) > (recordings.created_at, recordings.id)
      )`.execute(db);
  await sql`
    create unique index recordings_one_open_per_room on recordings (room_id)
    where status in ('pending', 'recording') and deleted_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('recordings_one_open_per_room').execute();
}
