import { ApiClient } from '@fusionflow/client';

/** The one API client of the app; it holds the session's access token in memory. */
export const api = new ApiClient();
