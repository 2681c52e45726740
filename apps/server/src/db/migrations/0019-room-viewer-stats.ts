import { type Kysely, sql } from 'kysely';

/**
 * Viewer statistics of a live room, for the streamer's end-of-broadcast summary: the most viewers
 * at once, and the time integral of the viewer count (viewer·seconds) while the room is live, so
 * that the average is exact: `viewer_seconds / (ended_at − started_at)`. `viewers_at` is when the
 * integral was last brought up to date (the viewer count has been constant since); null while the
 * room is not live. Rooms live when this runs start their integral now.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('rooms')
    .addColumn('peak_viewers', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('viewer_seconds', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('viewers_at', 'timestamptz')
    .execute();
  await sql`update rooms set peak_viewers = viewer_count, viewers_at = now() where status = 'live'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('rooms')
    .dropColumn('peak_viewers')
    .dropColumn('viewer_seconds')
    .dropColumn('viewers_at')
    .execute();
}
