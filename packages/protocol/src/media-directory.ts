import { z } from 'zod';
import { RoomId } from './ids.js';
import { text } from './text.js';

/**
 * The media directory: which SFU nodes exist, how loaded they are and which node is each live
 * room's origin. Nodes report themselves to the control plane (signed like the SFU's events); the
 * control plane places every new media session on a node when it issues the grant.
 */

/** A node id: what grants and WHIP/WHEP URLs name (`?node=<id>`). */
export const MEDIA_NODE_ID_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
export const MediaNodeId = text().regex(MEDIA_NODE_ID_PATTERN, 'node ids match ^[A-Za-z0-9_.-]{1,64}$');

/** The most rooms one report lists (a node with more reports its busiest ones; `load` still counts all). */
export const MAX_REPORTED_ROOMS = 2000;
/** The largest report body the control plane reads, in bytes. */
export const MAX_NODE_REPORT_BYTES = 256 * 1024;

/** Where nodes report (POST, signed with the shared internal secret). */
export const MEDIA_NODE_REPORT_PATH = '/api/internal/media/nodes';

const count = () => z.number().int().min(0).max(10_000_000);

/** What an SFU node tells the control plane every few seconds (SFU_REPORT_INTERVAL_SECONDS). */
export const SfuNodeReport = z.strictObject({
  nodeId: MediaNodeId,
  /** Base URL the control plane forwards WHIP/WHEP and admin calls to (SFU_ADVERTISED_URL). */
  url: text()
    .max(2048)
    .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, 'an http(s) URL'),
  /** The node takes no new sessions and exits when empty (or at its deadline). */
  draining: z.boolean(),
  capacity: z.strictObject({
    /** SFU_MAX_VIEWERS; 0: no limit. */
    maxViewers: count(),
  }),
  load: z.strictObject({ viewers: count(), publishers: count(), sessions: count() }),
  rooms: z
    .array(
      z.strictObject({
        roomId: RoomId,
        hasPublisher: z.boolean(),
        viewers: count(),
        /** The origin node this node relays the room from (it has no publisher of its own for it). */
        relayFrom: MediaNodeId.optional(),
      }),
    )
    .max(MAX_REPORTED_ROOMS),
  /** The node's clock (ISO 8601) when it sent this report. */
  sentAt: text().max(64),
});
export type SfuNodeReport = z.infer<typeof SfuNodeReport>;

/** One node as GET /api/admin/media shows it. */
export const MediaNodeView = z.object({
  nodeId: text(),
  url: text(),
  draining: z.boolean(),
  /** Heard from within MEDIA_NODE_TTL_SECONDS. Placement never uses an unhealthy node. */
  healthy: z.boolean(),
  /** `report`: the node reports itself; `static`: the one SFU the control plane runs or is told of (SFU_URL). */
  source: z.enum(['report', 'static']),
  /** When its last report arrived (ISO 8601); null for a static node. */
  lastSeen: text().nullable(),
  capacity: z.object({ maxViewers: z.number().int() }).nullable(),
  load: z.object({ viewers: z.number().int(), publishers: z.number().int(), sessions: z.number().int() }).nullable(),
  rooms: z.array(
    z.object({ roomId: text(), hasPublisher: z.boolean(), viewers: z.number().int(), relayFrom: text().optional() }),
  ),
});
export type MediaNodeView = z.infer<typeof MediaNodeView>;

/** GET /api/admin/media: nodes, the origin node of each live room, and the relays edges report (origin → edge). */
export const MediaAdminView = z.object({
  nodes: z.array(MediaNodeView),
  origins: z.array(z.object({ roomId: text(), nodeId: text() })),
  relays: z.array(z.object({ roomId: text(), from: text(), to: text() })),
});
export type MediaAdminView = z.infer<typeof MediaAdminView>;

/** POST /api/admin/drain on an SFU node: stop taking sessions, exit when empty or after `deadlineSeconds`. */
export const SfuDrainRequest = z.strictObject({ deadlineSeconds: z.number().int().min(0).max(86_400).optional() });
export type SfuDrainRequest = z.infer<typeof SfuDrainRequest>;
export const SfuDrainResponse = z.object({
  draining: z.boolean(),
  sessions: z.number().int(),
  /** When the node exits at the latest (ISO 8601); null without a deadline. */
  deadline: text().nullable(),
});
export type SfuDrainResponse = z.infer<typeof SfuDrainResponse>;
