import type { Migration, MigrationProvider } from 'kysely';
import * as foundation from './0001-foundation.js';
import * as liveStreaming from './0002-live-streaming.js';
import * as ledger from './0005-ledger.js';
import * as callBilling from './0006-call-billing.js';
import * as chat from './0007-chat.js';
import * as refreshGraceOnce from './0008-refresh-grace-once.js';
import * as auditTrail from './0009-audit-trail.js';
import * as suspensions from './0010-suspensions.js';
import * as payoutSecondApproval from './0011-payout-second-approval.js';
import * as roomModerators from './0012-room-moderators.js';
import * as reports from './0013-reports.js';
import * as platformSettings from './0014-platform-settings.js';
import * as passwordResets from './0015-password-resets.js';
import * as recordings from './0016-recordings.js';
import * as recordingsOpenUnique from './0017-recordings-open-unique.js';
import * as userHandles from './0018-user-handles.js';
import * as roomViewerStats from './0019-room-viewer-stats.js';

/**
 * Every migration, in order. Names sort lexically; never rename or edit one that has shipped:
 * add a new one.
 */
const migrations: Record<string, Migration> = {
  '0001-foundation': foundation,
  '0002-live-streaming': liveStreaming,
  '0005-ledger': ledger,
  '0006-call-billing': callBilling,
  '0007-chat': chat,
  '0008-refresh-grace-once': refreshGraceOnce,
  '0009-audit-trail': auditTrail,
  '0010-suspensions': suspensions,
  '0011-payout-second-approval': payoutSecondApproval,
  '0012-room-moderators': roomModerators,
  '0013-reports': reports,
  '0014-platform-settings': platformSettings,
  '0015-password-resets': passwordResets,
  '0016-recordings': recordings,
  '0017-recordings-open-unique': recordingsOpenUnique,
  '0018-user-handles': userHandles,
  '0019-room-viewer-stats': roomViewerStats,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
