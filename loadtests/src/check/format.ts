/** perf:check's printout: every metric, what moved, and why the check failed. */
import { fmtRatio, textTable } from '../report/format.js';
import type { CheckReport, Verdict } from './compare.js';

/** A move smaller than this is not worth a line under "moved". */
const NOTABLE_CHANGE = 0.1;

function limitText(v: Verdict): string {
  if (v.limit === undefined || !v.tolerance) return '';
  const n = fmtRatio(v.limit).replace('×', '');
  if (v.tolerance.better === 'higher') return `≥ ${n}`;
  if (v.tolerance.better === 'lower') return `≤ ${n}`;
  if (v.tolerance.target !== undefined) return `|x−${v.tolerance.target}| ≤ ${n}`;
  return `± ${n}`;
}

function changeText(v: Verdict): string {
  return v.change === undefined ? '' : `${v.change >= 0 ? '+' : ''}${(v.change * 100).toFixed(1)}%`;
}

export function formatCheck(report: CheckReport, baselineFile: string): string {
  const rows = report.verdicts.map((v) => [
    v.metric,
    v.baseline === undefined ? '—' : fmtRatio(v.baseline),
    v.current === undefined ? '—' : fmtRatio(v.current),
    changeText(v),
    limitText(v),
    v.status === 'regressed' || v.status === 'missing' ? v.status.toUpperCase() : v.status,
  ]);
  const out = [`perf:check against ${baselineFile}`, '', textTable(['metric', 'baseline', 'current', 'change', 'limit', 'verdict'], rows)];
  const moved = report.verdicts.filter((v) => v.status !== 'ok' || Math.abs(v.change ?? 0) >= NOTABLE_CHANGE);
  if (moved.length > 0) {
    out.push('', 'moved:');
    for (const v of moved) {
      const detail =
        v.status === 'missing'
          ? 'in the baseline but not measured (scenario failed or was removed)'
          : v.status === 'skipped'
            ? 'scenario skipped (feature not available on this server)'
            : v.status === 'new'
              ? `new metric ${fmtRatio(v.current)} (not in the baseline; run perf:baseline to track it)`
              : `${fmtRatio(v.baseline)} → ${fmtRatio(v.current)} (${changeText(v)}; limit ${limitText(v)})`;
      out.push(`  ${v.status.padEnd(9)} ${v.metric}: ${detail}`);
    }
  }
  out.push(
    '',
    report.ok
      ? `perf:check passed (${report.verdicts.length} metrics)`
      : `perf:check FAILED: ${report.failures.length} of ${report.verdicts.length} metrics (${report.failures.map((f) => f.metric).join(', ')})`,
  );
  return out.join('\n') + '\n';
}
