import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dashboardText } from '../../../src/cli/dashboards.js';
import { DASHBOARDS, expressions } from '../../../src/metrics/dashboards.js';
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
      expect(d.templating.list.map((v) => v.name)).toEqual(['datasource', 'function']);
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
  }
});
