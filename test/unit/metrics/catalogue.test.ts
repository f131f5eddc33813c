import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dashboardText } from '../../../src/cli/dashboards.js';
import { DASHBOARDS, expressions, type Dashboard, type Panel } from '../../../src/metrics/dashboards.js';
import { panelsByRow } from '../../helpers/metrics.js';
import { Metrics } from '../../../src/metrics/metrics.js';

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));
const readme = readFileSync(root('README.md'), 'utf8');
const inCode = new Set(new Metrics().names());

/** Metric names in the README's metrics table (rows that start with a `laminar_` name). */
function readmeNames(): Set<string> {
  const names = new Set<string>();
  for (const m of readme.matchAll(/^\| `(laminar_[a-z0-9_]+)`/gm)) names.add(m[1] as string);
  return names;
}

/** The metric a PromQL series name belongs to (histogram series carry _bucket, _sum, _count). */
function metricOf(series: string): string {
  if (inCode.has(series)) return series;
  return series.replace(/_(bucket|sum|count)$/, '');
}

describe('metrics catalogue', () => {
  it('every metric in code is in the README table, and the table names only metrics that exist', () => {
    const table = readmeNames();
    expect([...inCode].filter((n) => !table.has(n)), 'missing from README').toEqual([]);
    expect([...table].filter((n) => !inCode.has(n)), 'in README but not exported').toEqual([]);
  });

  it('names follow Prometheus conventions', () => {
    for (const name of inCode) {
      expect(name).toMatch(/^laminar_[a-z][a-z0-9_]*$/);
      expect(name).not.toMatch(/_(bucket|sum|count)$/);
    }
  });

  it('dashboards query only metrics the code exports', () => {
    for (const build of Object.values(DASHBOARDS)) {
      for (const expr of expressions(build())) {
        for (const m of expr.matchAll(/\b(laminar_[a-z0-9_]+)/g)) {
          expect(inCode.has(metricOf(m[1] as string)), `${m[1]} in ${expr}`).toBe(true);
        }
      }
    }
  });
});

describe('dashboards/', () => {
  for (const name of Object.keys(DASHBOARDS)) {
    it(`${name} is the committed output of \`laminar dashboards\``, () => {
      expect(readFileSync(root(`dashboards/${name}`), 'utf8')).toBe(dashboardText(name));
    });

    it(`${name} is a valid Grafana dashboard: schema 42, unique ids, panels on the grid, templated datasource`, () => {
      const d = JSON.parse(dashboardText(name)) as ReturnType<NonNullable<(typeof DASHBOARDS)[string]>>;
      expect(d.schemaVersion).toBe(42);
      expect(d.templating.list.map((v) => v.name)).toEqual(['datasource', 'function', 'node']);
      const ids = d.panels.map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const p of d.panels) {
        expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
        if (p.type === 'row') continue;
        expect(p.datasource?.uid).toBe('${datasource}');
        expect(p.targets?.length).toBeGreaterThan(0);
        for (const t of p.targets ?? []) {
          expect(t.datasource.uid).toBe('${datasource}');
          if (t.expr.includes('rate(')) expect(t.expr).toContain('[$__rate_interval]');
        }
        expect(p.fieldConfig?.defaults.unit).toBeTruthy();
      }
    });

    it(`${name} sums over nodes outside its Nodes row, and breaks the figures down by node in it`, () => {
      const d = JSON.parse(dashboardText(name)) as Dashboard;
      const byRow = panelsByRow(d);
      const nodes = byRow.get('Nodes') ?? [];
      expect(nodes.length).toBeGreaterThanOrEqual(3);
      expect(nodes.map((p) => p.title)).toEqual(expect.arrayContaining(['Invocations by node', 'Busy environments by node', 'Environments by node']));
      for (const p of nodes) {
        for (const t of p.targets ?? []) {
          // Grouped by node, filtered by the node variable, every selector of the query.
          expect(t.expr, p.title).toMatch(/^(sum|histogram_quantile\(0\.\d+, sum) by \((le, )?node\b/);
          for (const sel of t.expr.matchAll(/laminar_[a-z0-9_]+\{([^}]*)\}/g)) expect(sel[1], t.expr).toContain('node=~"$node"');
          expect(t.legendFormat).toContain('{{node}}');
        }
      }
      for (const [row, panels] of byRow) {
        if (row === 'Nodes') continue;
        for (const p of panels) for (const t of p.targets ?? []) expect(t.expr, `${row} / ${p.title}`).not.toMatch(/\bnode\b/);
      }
      const node = d.templating.list.find((v) => v.name === 'node');
      expect(node).toMatchObject({ type: 'query', includeAll: true, multi: true, allValue: '.*', definition: 'label_values(laminar_account_concurrency_limit, node)' });
    });
  }

  it('what each node counts for itself is summed; what every node reads from the shared state is taken once', () => {
    // Outside the Nodes row, whose panels keep the node label by design.
    const all = Object.values(DASHBOARDS).flatMap((build) =>
      [...panelsByRow(build())].flatMap(([row, panels]) => (row === 'Nodes' ? [] : panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)))),
    );
    const aggregationOf = (metric: string) => [...new Set(all.flatMap((e) => [...e.matchAll(new RegExp(`(\\w+)(?: by \\([^)]*\\) )?\\(${metric}[{)]`, 'g'))].map((m) => m[1])))];
    for (const own of ['laminar_environments', 'laminar_provisioned_concurrency_allocated', 'laminar_provisioned_concurrency_executions']) {
      expect(aggregationOf(own), own).toEqual(['sum']);
    }
    // The concurrency gauges come from the ledger, which a cluster shares: every node reports all of it.
    const shared = [
      'laminar_concurrent_executions',
      'laminar_account_concurrent_executions',
      'laminar_unreserved_concurrent_executions',
      'laminar_claimed_account_concurrency',
      'laminar_reserved_concurrency',
      'laminar_account_concurrency_limit',
      'laminar_autoscaling_desired_capacity',
      'laminar_async_queue_depth',
    ];
    for (const metric of shared) {
      expect(aggregationOf(metric), metric).toEqual(['max']);
    }
  });
});
