import { randomInt } from 'node:crypto';
import { handleCandidates } from '@fusionflow/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';

const BATCH = 20;
const BATCHES = 5;

/**
 * A handle no account has yet, derived from a display name (`ann`, then `ann-2`, `ann-3`, …). Free when
 * asked: a concurrent sign-up may still take it first, which the unique constraint refuses (try again).
 */
export async function freeHandle(db: Kysely<Database>, displayName: string): Promise<string> {
  for (let batch = 0; batch < BATCHES; batch++) {
    const candidates = handleCandidates(displayName, BATCH, 1 + batch * BATCH);
    const taken = new Set(
      (await db.selectFrom('users').select('handle').where('handle', 'in', candidates).execute()).map((r) => r.handle),
    );
    const free = candidates.find((h) => !taken.has(h));
    if (free) return free;
  }
  // A very common name: a random suffix rather than counting on.
  return handleCandidates(displayName, 1, randomInt(1_000, 1_000_000))[0] as string;
}
