import type { ResponseSchema } from '@fusionflow/client';
import { Replay } from '@fusionflow/protocol';
import { api } from './api';

/**
 * GET /api/replays's answer: a page of `Replay` (`{ replays, nextCursor? }`, like the room list); a bare
 * array is read too. Every item is checked with the protocol's `Replay` schema.
 */
const ReplayList: ResponseSchema<Replay[]> = {
  safeParse(value) {
    const items = Array.isArray(value)
      ? value
      : typeof value === 'object' && value !== null && Array.isArray((value as { replays?: unknown }).replays)
        ? ((value as { replays: unknown[] }).replays as unknown[])
        : null;
    if (!items) return { success: false, error: { issues: [{ path: [], message: 'expected a list of replays' }] } };
    const replays: Replay[] = [];
    for (const [i, item] of items.entries()) {
      const parsed = Replay.safeParse(item);
      if (!parsed.success) {
        return {
          success: false,
          error: { issues: parsed.error.issues.map((issue) => ({ ...issue, path: ['replays', i, ...issue.path] })) },
        };
      }
      replays.push(parsed.data);
    }
    return { success: true, data: replays };
  },
};

/**
 * Past broadcasts, newest first: a channel's (`owner`) or everyone's; only those ready to play. Hidden ones are left
 * out unless `includeHidden` (the server sends them only to their owner, who manages them).
 */
export async function listReplays(
  params: { owner?: string; limit?: number; includeHidden?: boolean } = {},
): Promise<Replay[]> {
  const query = new URLSearchParams();
  if (params.owner !== undefined) query.set('owner', params.owner);
  if (params.limit !== undefined) query.set('limit', String(params.limit));
  const qs = query.toString();
  const replays = await api.request({
    method: 'GET',
    path: `/api/replays${qs ? `?${qs}` : ''}`,
    schema: ReplayList,
    auth: true,
  });
  return replays.filter((r) => r.status === 'ready' && (params.includeHidden === true || !r.hidden));
}
