import { z } from 'zod';
import { text } from './text.js';

/**
 * The doctor's report (`GET /api/admin/diagnostics`, `npm run doctor`): one check per dependency,
 * each saying in plain words what is wrong and what to change.
 */
export const DiagnosticStatus = z.enum(['ok', 'warn', 'fail', 'skipped']);
export type DiagnosticStatus = z.infer<typeof DiagnosticStatus>;

export const DiagnosticCheck = z.object({
  /** Stable id: `database`, `redis`, `sfu`, `sfu-ice`, `turn:<url>`, `translation`, `storage`, `clock`, `tls`, `ledger`. */
  id: text(),
  /** What was checked, for people. */
  title: text(),
  status: DiagnosticStatus,
  /** What was found. */
  summary: text(),
  /** What to change, when something is wrong. */
  fix: text().optional(),
  /** Measurements behind the verdict (addresses, realm, latency, expiry…). */
  details: z.record(text(), z.unknown()).optional(),
  durationMs: z.number(),
});
export type DiagnosticCheck = z.infer<typeof DiagnosticCheck>;

export const DiagnosticsReport = z.object({
  /** The worst status of any check (`skipped` counts as ok). */
  status: z.enum(['ok', 'warn', 'fail']),
  checkedAt: text(),
  checks: z.array(DiagnosticCheck),
});
export type DiagnosticsReport = z.infer<typeof DiagnosticsReport>;
