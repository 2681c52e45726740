import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { TestPlatform } from '../../apps/server/src/test-support.js';
import { platformMetricNames, startObservedPlatform } from '../../test/support/observed-platform.js';
import { metricNames } from '../../test/support/promql.js';

const dir = fileURLToPath(new URL('.', import.meta.url));
const dashboards = readdirSync(join(dir, 'dashboards'))
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({ file, json: JSON.parse(readFileSync(join(dir, 'dashboards', file), 'utf8')) }));

/** Every PromQL expression of a dashboard: panel targets and variable queries. */
function expressions(dashboard: any): string[] {
  const panels: any[] = dashboard.panels.flatMap((p: any) => [p, ...(p.panels ?? [])]);
  return [
    ...panels.flatMap((p) => (p.targets ?? []).map((t: any) => t.expr as string)),
    ...(dashboard.templating?.list ?? []).map((v: any) => (typeof v.query === 'string' ? v.query : v.query?.query)),
  ].filter((e): e is string => typeof e === 'string');
}

describe('the PromQL metric extractor', () => {
  it('finds metric names and only them', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{job=~"a|b"}[5m]))) > 1e3 and on (x) up offset 5m',
      ).sort(),
    ).toEqual(['http_request_duration_seconds_bucket', 'up']);
    expect(metricNames('label_values(live_rooms, node)')).toEqual(['live_rooms']);
    expect(metricNames('min by (target) (tls_certificate_expiry_timestamp_seconds) - time() < 14 * 86400')).toEqual([
      'tls_certificate_expiry_timestamp_seconds',
    ]);
  });
});

describe('Grafana dashboards and provisioning (deploy/grafana)', () => {
  it('provisions the datasource every panel uses, and the dashboards directory', () => {
    const datasources = parse(readFileSync(join(dir, 'provisioning/datasources/fusionflow.yml'), 'utf8'));
    const uid = datasources.datasources[0].uid;
    expect(datasources.datasources[0]).toMatchObject({ type: 'prometheus', uid: 'fusionflow-prometheus' });
    const providers = parse(readFileSync(join(dir, 'provisioning/dashboards/fusionflow.yml'), 'utf8'));
    expect(providers.providers[0]).toMatchObject({
      type: 'file',
      options: { path: expect.stringMatching(/dashboards$/) },
    });

    expect(dashboards.map((d) => d.file).sort()).toEqual([
      'calls.json',
      'chat-translation.json',
      'economy.json',
      'media.json',
      'system.json',
    ]);
    const uids = new Set<string>();
    for (const { file, json } of dashboards) {
      expect(json.uid, file).toMatch(/^fusionflow-[a-z-]+$/);
      expect(uids.has(json.uid), `${file}: uid ${json.uid} is taken`).toBe(false);
      uids.add(json.uid);
      const ids = json.panels.map((p: any) => p.id);
      expect(new Set(ids).size, `${file}: panel ids are unique`).toBe(ids.length);
      for (const p of json.panels) {
        expect(p.datasource?.uid, `${file}: ${p.title}`).toBe(uid);
        expect(p.targets?.length, `${file}: ${p.title} has queries`).toBeGreaterThan(0);
        for (const t of p.targets) expect(t.datasource?.uid, `${file}: ${p.title}`).toBe(uid);
      }
    }
  });

  describe('against the platform', () => {
    let t: TestPlatform;
    beforeAll(async () => {
      t = (await startObservedPlatform()).t;
    }, 60_000);
    afterAll(async () => {
      await t?.close();
    });

    it('uses only metrics the platform exports (control plane and SFU /metrics)', async () => {
      const known = await platformMetricNames(t);
      const missing: string[] = [];
      let used = 0;
      for (const { file, json } of dashboards) {
        for (const expr of expressions(json)) {
          for (const name of metricNames(expr)) {
            used++;
            if (!known.has(name)) missing.push(`${file}: ${name} (in ${expr})`);
          }
        }
      }
      expect(used).toBeGreaterThan(50);
      expect(missing).toEqual([]);
    });
  });
});
