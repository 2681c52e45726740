import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { TestPlatform } from '../../apps/server/src/test-support.js';
import { platformMetricNames, startObservedPlatform } from '../../test/support/observed-platform.js';
import { type Prometheus, startPrometheus } from '../../test/support/prometheus.js';
import { metricNames } from '../../test/support/promql.js';
import { tools } from '../../test/support/tools.js';

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const CONFIG = here('./prometheus.yml');
const ALERTS = here('./alerts.yml');
const ALERT_TESTS = here('./alerts.test.yml');
const promtool = tools.promtool();
const prometheus = tools.prometheus();

interface Rule {
  alert: string;
  expr: string;
}
const alertRules = (): Rule[] =>
  (parse(readFileSync(ALERTS, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);

describe.skipIf(!promtool.available)('promtool on deploy/prometheus', () => {
  const run = (...args: string[]) =>
    execFileSync('promtool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  it('accepts the configuration and the rules', () => {
    expect(run('check', 'config', CONFIG)).toContain('is valid prometheus config file syntax');
    expect(run('check', 'rules', ALERTS)).toContain(`SUCCESS: ${alertRules().length} rules found`);
  });

  it('passes the unit test of every alert', () => {
    expect(run('test', 'rules', ALERT_TESTS)).toContain('SUCCESS');
    // One test per alert: every alert is named in an alert_rule_test that expects it to fire.
    const tests = parse(readFileSync(ALERT_TESTS, 'utf8')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const fired = new Set(
      tests.tests.flatMap((t) => t.alert_rule_test.filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)),
    );
    expect([...fired].sort()).toEqual(
      alertRules()
        .map((r) => r.alert)
        .sort(),
    );
  });
});

/**
 * Debian's prometheus with deploy/prometheus/prometheus.yml (the control plane's address and the
 * interval swapped for the test's) against a running platform: every target up, the SFU found
 * through the control plane's discovery with its node/worker labels, every alert rule evaluating.
 */
describe('Prometheus against a running platform', () => {
  let t: TestPlatform;
  let prom: Prometheus | undefined;
  let control: string;

  beforeAll(async () => {
    const started = await startObservedPlatform();
    t = started.t;
    control = new URL(started.url).host;
    if (!prometheus.available) return;
    let config = readFileSync(CONFIG, 'utf8');
    expect(config.split('127.0.0.1:8080').length - 1).toBe(2);
    config = config.replaceAll('127.0.0.1:8080', control).replace('scrape_interval: 15s', 'scrape_interval: 1s');
    config = config.replace('evaluation_interval: 15s', 'evaluation_interval: 1s');
    config = config.replace('refresh_interval: 30s', 'refresh_interval: 1s');
    prom = await startPrometheus(config, { 'alerts.yml': readFileSync(ALERTS, 'utf8') });
  }, 60_000);
  afterAll(async () => {
    await prom?.stop();
    await t?.close();
  });

  it('uses only metrics the platform exports in its alerts', async () => {
    const known = await platformMetricNames(t);
    const used = new Set(alertRules().flatMap((r) => metricNames(r.expr)));
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((m) => !known.has(m))).toEqual([]);
  });

  it.skipIf(!prometheus.available)(
    'scrapes every target, control plane and SFU, and evaluates every rule',
    async () => {
      const deadline = Date.now() + 30_000;
      let targets: any[] = [];
      while (Date.now() < deadline) {
        targets = (await prom!.api('targets?state=active')).activeTargets;
        if (targets.length === 2 && targets.every((x) => x.health === 'up')) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      const summary = targets.map((x) => ({ job: x.labels.job, health: x.health, error: x.lastError }));
      expect(summary.sort((a, b) => a.job.localeCompare(b.job))).toEqual([
        { job: 'fusionflow-control', health: 'up', error: '' },
        { job: 'fusionflow-sfu', health: 'up', error: '' },
      ]);
      const sfu = targets.find((x) => x.labels.job === 'fusionflow-sfu');
      expect(sfu.labels).toMatchObject({ node: 'embedded', worker: '0', instance: new URL(t.platform.sfuUrl()!).host });

      // Every rule evaluated without error.
      let rules: any[] = [];
      while (Date.now() < deadline) {
        rules = (await prom!.api('rules')).groups.flatMap((g: any) => g.rules);
        if (rules.length > 0 && rules.every((r) => r.lastEvaluation && !r.lastEvaluation.startsWith('0001'))) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(rules.map((r) => r.name).sort()).toEqual(
        alertRules()
          .map((r) => r.alert)
          .sort(),
      );
      expect(rules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`)).toEqual([]);

      // The platform's own series, as Prometheus stored them.
      const up = await prom!.api(`query?query=${encodeURIComponent('platform_dependency_up')}`);
      const byDependency = Object.fromEntries(up.result.map((r: any) => [r.metric.dependency, r.value[1]]));
      expect(byDependency).toEqual({ database: '1', sfu: '1' });
      const live = await prom!.api(`query?query=${encodeURIComponent('live_rooms{job="fusionflow-sfu"}')}`);
      expect(live.result[0]?.metric).toMatchObject({ node: 'embedded', worker: '0' });
    },
    60_000,
  );
});
