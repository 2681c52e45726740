import { testDatabases } from '../../apps/server/src/db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../apps/server/src/test-support.js';
import { exposedNames } from './promql.js';

/**
 * A platform with its embedded SFU, listening, with the doctor and the ledger audit run once so
 * their series have values: what Prometheus scrapes in production.
 */
export async function startObservedPlatform(): Promise<{ t: TestPlatform; url: string }> {
  const t = await startTestPlatform(
    testDatabases()[0]!,
    { port: 0, sfuEmbedded: true },
    { env: { PATH: process.env.PATH, ICE_ADDRESSES: '127.0.0.1', ICE_ONLY_ADDRESSES: 'true', LOG_LEVEL: 'silent' } },
  );
  const url = await t.platform.listen();
  await t.platform.services.doctor.report({ fresh: true });
  await t.platform.services.ledgerAudit.run();
  return { t, url };
}

/** Every metric name the platform exposes: the control plane's /metrics and the SFU's. */
export async function platformMetricNames(t: TestPlatform): Promise<Set<string>> {
  const control = (await t.call('GET', '/metrics')).body as string;
  const sfuUrl = t.platform.sfuUrl();
  if (!sfuUrl) throw new Error('the embedded SFU is not running');
  const sfu = await (await fetch(`${sfuUrl}/metrics`)).text();
  // `up` is Prometheus's own, for every target.
  return new Set([...exposedNames(control), ...exposedNames(sfu), 'up']);
}
