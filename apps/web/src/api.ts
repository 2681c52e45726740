import { ApiClient, GovernanceClient, WalletClient } from '@fusionflow/client';

/** The one API client of the app; it holds the session's access token in memory. */
export const api = new ApiClient();

/** The token economy's endpoints (wallet, tips, tickets, earnings, payouts), on the same session. */
export const wallet = new WalletClient(api);

/** Reports, channel moderators and the admin console. */
export const governance = new GovernanceClient(api);
