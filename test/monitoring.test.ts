/**
 * deploy/monitoring: the PrometheusRule and the Grafana dashboard use only metric names the
 * code exports. The registry is the real one: an Extender's metrics, a WatchSource's and a
 * PolicyReloader's, registered in-process as main.ts registers them. Renaming a metric in src/
 * fails this test until the rules and the dashboard follow.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { WatchSource } from '../src/cluster/index-source.js';
import { DEFAULT_POLICY } from '../src/config/policy.js';
import { PolicyReloader } from '../src/config/policy-reloader.js';
import { Extender } from '../src/extender.js';
import { createLogger } from '../src/logging.js';
import { StaticReadiness } from './support/readiness.js';

const MONITORING = join(dirname(fileURLToPath(import.meta.url)), '..', 'deploy', 'monitoring');

/** Name to type (counter, gauge, histogram, summary) of every metric an extender in watch mode with a reloadable policy exports. */
async function exportedMetrics(): Promise<Map<string, string>> {
  const extender = new Extender({ policy: DEFAULT_POLICY, readiness: new StaticReadiness() });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: 'http://127.0.0.1:9', skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  // Constructed, not started: registering is all that is needed.
  new WatchSource({ kubeConfig, registry: extender.metrics.registry, staleAfterSeconds: 60 });
  new PolicyReloader({ source: 'file policy.yaml', current: () => extender.generation.policy, apply: async () => {}, logger: createLogger('silent'), registry: extender.metrics.registry });
  const metrics = await extender.metrics.registry.getMetricsAsJSON();
  return new Map(metrics.map((m) => [m.name, String(m.type)]));
}

/** Series names a query may use for an exported metric: histograms and summaries add suffixes. */
function seriesNames(exported: Map<string, string>): Set<string> {
  const names = new Set<string>();
  for (const [name, type] of exported) {
    names.add(name);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(name + suffix);
  }
  return names;
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects: identifiers left once strings, label matchers,
 * ranges, grouping clauses and function calls are taken out. Grafana's `$var` is a variable.
 */
export function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names: string[] = [];
  for (const match of bare.matchAll(/(?<![\w.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    if (match[2] || PROMQL_WORDS.has(match[1]!.toLowerCase())) continue;
    names.push(match[1]!);
  }
  return names;
}

interface Rule {
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function ruleFile(): { apiVersion: string; kind: string; metadata: { name: string }; spec: { groups: Array<{ name: string; rules: Rule[] }> } } {
  return parseYaml(readFileSync(join(MONITORING, 'prometheus-rule.yaml'), 'utf8'));
}

interface Panel {
  title: string;
  type: string;
  targets?: Array<{ expr: string; refId: string }>;
  gridPos: { x: number; y: number; w: number; h: number };
}

function dashboard(): { title: string; uid: string; panels: Panel[]; templating: { list: Array<{ name: string; definition?: string }> } } {
  return JSON.parse(readFileSync(join(MONITORING, 'grafana-dashboard.json'), 'utf8'));
}

describe('metricNamesIn', () => {
  it('finds the selected metrics and nothing else', () => {
    expect(metricNamesIn('histogram_quantile(0.99, sum by (verb, le) (rate(a_bucket{verb=~"filter|x"}[5m]))) > 0.1')).toEqual(['a_bucket']);
    expect(metricNamesIn('max by (kind) (b_seconds{pod=~"$pod"}) > 300 and on(pod) c == 0')).toEqual(['b_seconds', 'c']);
    expect(metricNamesIn('absent_over_time(d[10m])')).toEqual(['d']);
    expect(metricNamesIn('sum(rate(e_total[$__rate_interval])) / 1e3')).toEqual(['e_total']);
  });
});

describe('deploy/monitoring', () => {
  it('the PrometheusRule has the alerts operators need, each with a severity and a summary', () => {
    const file = ruleFile();
    expect(file.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(file.kind).toBe('PrometheusRule');
    const rules = file.spec.groups.flatMap((g) => g.rules);
    const byAlert = new Map(rules.map((r) => [r.alert, r]));
    for (const [alert, metric] of [
      ['SysctlExtenderNotReady', 'sysctl_extender_ready'],
      ['SysctlExtenderWatchStale', 'sysctl_extender_watch_last_event_age_seconds'],
      ['SysctlExtenderBindFailures', 'sysctl_extender_binds_total'],
      ['SysctlExtenderVerbSlow', 'sysctl_extender_request_duration_seconds_bucket'],
      ['SysctlExtenderPolicyReloadRefused', 'sysctl_extender_policy_rejected'],
    ] as const) {
      const rule = byAlert.get(alert);
      expect(rule, alert).toBeDefined();
      expect(metricNamesIn(rule!.expr), alert).toContain(metric);
    }
    expect(byAlert.get('SysctlExtenderBindFailures')!.expr).toContain('by (namespace, pod, outcome)');
    expect(byAlert.get('SysctlExtenderVerbSlow')!.expr).toMatch(/verb=~"filter\|prioritize"/);
    for (const rule of rules) {
      expect(rule.labels?.severity, rule.alert).toMatch(/^(critical|warning|info)$/);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      expect(rule.for, rule.alert).toMatch(/^\d+[smh]$/);
    }
  });

  it('every metric the rules and the dashboard use is one the code exports', async () => {
    const exported = await exportedMetrics();
    const known = seriesNames(exported);
    const used: Array<{ where: string; name: string }> = [];
    for (const rule of ruleFile().spec.groups.flatMap((g) => g.rules)) {
      for (const name of metricNamesIn(rule.expr)) used.push({ where: `rule ${rule.alert}`, name });
    }
    const dash = dashboard();
    for (const panel of dash.panels) {
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets!) for (const name of metricNamesIn(target.expr)) used.push({ where: `panel "${panel.title}"`, name });
    }
    for (const variable of dash.templating.list) {
      const inner = /label_values\((.*),\s*\w+\)$/.exec(variable.definition ?? '')?.[1];
      if (inner) for (const name of metricNamesIn(inner)) used.push({ where: `variable ${variable.name}`, name });
    }
    expect(used.length).toBeGreaterThan(20);
    const unknown = used.filter((u) => !known.has(u.name)).map((u) => `${u.where}: ${u.name}`);
    expect(unknown).toEqual([]);
    // The dashboard covers every metric of the extender's own (not the process defaults).
    const own = [...exported.keys()].filter((name) => !/^sysctl_extender_(process|nodejs)_/.test(name));
    const usedNames = new Set(used.map((u) => u.name.replace(/_(bucket|sum|count)$/, '')));
    expect(own.filter((name) => !usedNames.has(name))).toEqual([]);
  });

  it('the dashboard is one Grafana can import: unique ids, panels on the 24-column grid, a data source variable', () => {
    const dash = dashboard();
    expect(dash.uid).toBe('sysctl-extender');
    const ids = dash.panels.map((p) => (p as unknown as { id: number }).id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of dash.panels) expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
    expect(dash.templating.list.map((v) => v.name)).toEqual(['datasource', 'namespace', 'pod']);
  });
});
