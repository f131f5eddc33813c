/**
 * The figures of a run as rows (scenario, figure, median, spread, ratio), derived generically from
 * every scenario's loads and values so a new scenario needs no report code.
 */
import type { LoadFigure } from '../harness/figures.js';
import type { RunResults } from '../runner.js';
import { fmt, fmtRatio, fmtSpread, fmtStat } from './format.js';

export interface Row {
  scenario: string;
  figure: string;
  median: string;
  spread: string;
  ratio: string;
}

function loadRows(scenario: string, label: string, f: LoadFigure, ratioText: string): Row[] {
  const rows: Row[] = [];
  if (f.ok > 0) {
    rows.push({ scenario, figure: `${label} req/s`, median: fmtStat(f.rps, '', 0), spread: fmtSpread(f.rps, 0), ratio: ratioText });
    rows.push({
      scenario,
      figure: `${label} p50/p90/p99/max ms`,
      median: [f.p50, f.p90, f.p99, f.max].map((s) => fmt(s.median)).join(' / '),
      spread: `p99 ${fmtSpread(f.p99)}`,
      ratio: '',
    });
  }
  if (f.throttled > 0) {
    rows.push({ scenario, figure: `${label} 429/s`, median: fmtStat(f.throttleRps, '', 0), spread: fmtSpread(f.throttleRps, 0), ratio: '' });
    rows.push({
      scenario,
      figure: `${label} 429 p50/p99 ms`,
      median: `${fmt(f.throttleP50.median)} / ${fmt(f.throttleP99.median)}`,
      spread: `p99 ${fmtSpread(f.throttleP99)}`,
      ratio: '',
    });
  }
  if (f.other + f.errors + f.timeouts > 0) {
    rows.push({ scenario, figure: `${label} other/errors/timeouts`, median: `${f.other} / ${f.errors} / ${f.timeouts}`, spread: '', ratio: '' });
  }
  return rows;
}

export function resultRows(results: RunResults): Row[] {
  const rows: Row[] = [];
  for (const r of Object.values(results.scenarios)) {
    if (r.status !== 'ok') {
      rows.push({ scenario: r.name, figure: r.status, median: '', spread: '', ratio: (r.reason ?? '').split('\n')[0] ?? '' });
      continue;
    }
    for (const [label, f] of Object.entries(r.floors)) rows.push(...loadRows(r.name, `floor ${label}`, f, ''));
    for (const [label, f] of Object.entries(r.loads)) {
      const floor = r.floorOf[label];
      const rpsRatio = floor ? r.ratios[`${floor.prefix}.rps_vs_${floor.kind}`] : undefined;
      rows.push(...loadRows(r.name, label, f, floor && rpsRatio !== undefined ? `${fmtRatio(rpsRatio)} ${floor.kind}` : ''));
    }
    for (const v of Object.values(r.values)) {
      rows.push({ scenario: r.name, figure: v.unit ? `${v.label} (${v.unit})` : v.label, median: fmtStat(v.stat), spread: fmtSpread(v.stat), ratio: '' });
    }
  }
  return rows;
}
