/** The HTML report: one self-contained file with inline SVG plots, readable offline in a browser. */
import type { ChartSpec, ScenarioResult } from '../harness/result.js';
import type { ProfileSummary } from '../profile/cpuprofile.js';
import type { RunResults } from '../runner.js';
import { SCENARIOS } from '../scenarios/index.js';
import { fmt, fmtPct, fmtRatio, fmtSpread } from './format.js';
import { resultRows } from './rows.js';
import { barChart, esc, inlineBar, lineChart, stripChart, type BarGroup } from './svg.js';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:24px;color:#111827}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 8px;border-bottom:1px solid #e5e7eb;padding-bottom:4px}
h3{font-size:15px;margin:20px 0 6px}.meta{color:#4b5563}
table{border-collapse:collapse;margin:8px 0;font-size:13px}th,td{padding:3px 10px;border-bottom:1px solid #f3f4f6;text-align:right;vertical-align:top}
th:first-child,td:first-child,th.l,td.l{text-align:left}th{background:#f9fafb}
.met{color:#15803d;font-weight:600}.missed{color:#b91c1c;font-weight:600}.nm{color:#6b7280}
.status-skipped{color:#92400e}.status-failed{color:#b91c1c}
.legend{display:flex;flex-wrap:wrap;gap:12px;font-size:12px;margin:2px 0 12px 64px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.note{background:#fffbeb;border-left:3px solid #f59e0b;padding:4px 8px;margin:4px 0}
.empty{color:#6b7280;font-style:italic}pre{white-space:pre-wrap;background:#f9fafb;padding:8px;font-size:12px}
.charts{display:grid;grid-template-columns:1fr;gap:4px}
code{background:#f3f4f6;padding:0 3px}`;

function table(header: string[], rows: string[][], leftCols = 1): string {
  const cls = (i: number) => (i < leftCols ? ' class="l"' : '');
  return `<table><thead><tr>${header.map((h, i) => `<th${cls(i)}>${h}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function targetsSection(results: RunResults): string {
  const rows = results.targets.map((t) => {
    const cls = t.status === 'met' ? 'met' : t.status === 'missed' ? 'missed' : 'nm';
    const margin = t.margin === undefined ? '' : `${t.margin >= 0 ? '+' : ''}${fmtPct(t.margin, 1)}`;
    return [esc(t.description), `<span class="${cls}">${t.status}</span>`, fmtRatio(t.value), margin];
  });
  return `<h2>Goals</h2>${table(['goal', 'status', 'ratio', 'margin to goal'], rows)}
  <p class="meta">Margin: how far the ratio is from its goal, as a share of the goal (negative = missed by that much).</p>`;
}

function overview(results: RunResults): string {
  const groups: BarGroup[] = [];
  for (const r of Object.values(results.scenarios)) {
    for (const [label, f] of [...Object.entries(r.floors).map(([l, f]) => [`floor ${l}`, f] as const), ...Object.entries(r.loads)]) {
      if (f.ok === 0) continue;
      groups.push({
        label: `${r.name} ${label}`.replace('Fastify + piscina', 'piscina').replace('Fastify echo', 'echo'),
        values: [
          { name: 'p50', value: f.p50.median },
          { name: 'p90', value: f.p90.median },
          { name: 'p99', value: f.p99.median },
        ],
      });
    }
    for (const [label, f] of Object.entries(r.loads)) {
      if (f.throttled === 0) continue;
      groups.push({
        label: `${r.name} ${label} 429s`,
        values: [
          { name: 'p50', value: f.throttleP50.median },
          { name: 'p99', value: f.throttleP99.median },
        ],
      });
    }
  }
  const ratioRows = Object.entries(results.ratios).map(([k, v]) => {
    const [scenario, ...rest] = k.split('.');
    const spread = results.scenarios[scenario ?? '']?.ratioSpread[rest.join('.')];
    return [`<code>${esc(k)}</code>`, fmtRatio(v), fmtSpread(spread)];
  });
  return `<h2>Overview</h2>
  <h3>Latency percentiles per scenario (ms, log scale; medians of the runs)</h3>
  ${barChart({ title: 'Latency percentiles', groups, yLabel: 'ms', log: true })}
  <h3>Ratios (what perf:check compares)</h3>
  ${table(['ratio', 'median', 'spread of runs'], ratioRows)}`;
}

function chart(r: ScenarioResult, c: ChartSpec): string {
  const title = `<h3>${esc(c.title)}</h3>`;
  if (c.kind === 'strip') {
    return title + stripChart({ title: c.title, yLabel: c.yLabel, groups: c.keys.map((k) => ({ label: k.label, values: r.samples[k.key] ?? [] })) });
  }
  return (
    title +
    lineChart({
      title: c.title,
      yLabel: c.yLabel,
      ...(c.xLabel ? { xLabel: c.xLabel } : {}),
      ...(c.logScale ? { log: true } : {}),
      series: c.keys.map((k) => ({ label: k.label, points: r.series[k.key] ?? [] })),
    })
  );
}

function profileSection(p: ProfileSummary): string {
  const entryRows = (entries: ProfileSummary['laminarSelf'], by: 'self' | 'total') =>
    entries.map((e) => [
      `<code>${esc(e.functionName)}</code>`,
      `<code>${esc(e.location)}</code>`,
      fmt(by === 'self' ? e.selfMs : e.totalMs, 0),
      fmtPct(by === 'self' ? e.selfPct : e.totalPct, 1),
      inlineBar((by === 'self' ? e.selfPct : e.totalPct) * 4),
    ]);
  return `<h3>${esc(p.title)}: ${fmt(p.busyMs, 0)} ms busy of ${fmt(p.sampledMs, 0)} ms sampled (main thread)</h3>
  ${table(
    ['where the main thread spends its time', 'self ms', 'share of busy', ''],
    p.byCategory.slice(0, 12).map((c) => [esc(c.category), fmt(c.selfMs, 0), fmtPct(c.selfPct, 1), inlineBar(c.selfPct)]),
  )}
  <p>Laminar's functions by <b>self</b> time:</p>
  ${table(['function', 'source', 'self ms', 'share', ''], entryRows(p.laminarSelf, 'self'), 2)}
  <p>Laminar's functions by <b>inclusive</b> time (themselves plus what they call):</p>
  ${table(['function', 'source', 'total ms', 'share', ''], entryRows(p.laminarTotal, 'total'), 2)}
  <p>Every function by self time:</p>
  ${table(
    ['function', 'where', 'category', 'self ms', 'share'],
    p.overallSelf.map((e) => [`<code>${esc(e.functionName)}</code>`, `<code>${esc(e.location)}</code>`, esc(e.category), fmt(e.selfMs, 0), fmtPct(e.selfPct, 1)]),
    3,
  )}`;
}

function scenarioSection(results: RunResults, r: ScenarioResult): string {
  const description = SCENARIOS.find((s) => s.name === r.name)?.description ?? '';
  const head = `<h2 id="${esc(r.name)}">${esc(r.title)} <small class="status-${r.status}">(${r.name}: ${r.status}, ${fmt(r.seconds, 0)} s)</small></h2><p class="meta">${esc(description)}</p>`;
  if (r.status !== 'ok') return `${head}<pre>${esc(r.reason ?? '')}</pre>`;
  const rows = resultRows({ ...results, scenarios: { [r.name]: r } }).map((row) => [esc(row.figure), esc(row.median), esc(row.spread), esc(row.ratio)]);
  return `${head}
  ${table(['figure', 'median', 'spread (min..max)', 'vs floor'], rows)}
  ${r.notes.map((n) => `<div class="note">${esc(n)}</div>`).join('')}
  <div class="charts">${r.charts.map((c) => chart(r, c)).join('')}</div>
  ${(r.profiles ?? []).map(profileSection).join('')}`;
}

export function htmlReport(results: RunResults): string {
  const m = results.machine;
  const s = results.settings;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Laminar load tests ${esc(results.startedAt)}</title><style>${STYLE}</style></head><body>
  <h1>Laminar load tests</h1>
  <p class="meta">${esc(results.startedAt)} · ${fmt(results.seconds, 0)} s · ${m.cpus} × ${esc(m.cpuModel)}, ${m.memoryGb} GB, Node ${esc(m.node)} · load average at the end ${m.loadAverage.map((l) => l.toFixed(2)).join(' ')}<br>
  Each figure is the median of ${s.reps} run(s) of ${s.durationSeconds} s after a ${s.warmupSeconds} s warm-up, with the spread (min..max) of the runs. Floors run right before each Laminar run on the same connections; ratios are medians of per-run ratios.
  Scenarios: ${Object.values(results.scenarios)
    .map((r) => `<a href="#${esc(r.name)}">${esc(r.name)}</a> <span class="status-${r.status}">${r.status === 'ok' ? '' : `(${r.status})`}</span>`)
    .join(' · ')}</p>
  ${targetsSection(results)}
  ${overview(results)}
  ${Object.values(results.scenarios)
    .map((r) => scenarioSection(results, r))
    .join('')}
  </body></html>`;
}
