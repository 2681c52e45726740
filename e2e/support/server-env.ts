/** Environment variables through which the global setup hands the running server to tests and teardown. */
export const E2E_ENV = {
  baseUrl: 'FF_E2E_BASE_URL',
  serverPid: 'FF_E2E_SERVER_PID',
  dataDir: 'FF_E2E_DATA_DIR',
} as const;
