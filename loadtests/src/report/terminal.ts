/** The run on the terminal: figures with spread, every ratio, and the goals. */
import type { RunResults } from '../runner.js';
import { fmt, fmtPct, fmtRatio, textTable } from './format.js';
import { resultRows } from './rows.js';

export function terminalReport(results: RunResults): string {
  const m = results.machine;
  const s = results.settings;
  const out: string[] = [];
  out.push(
    `Laminar load tests — ${results.startedAt} — ${fmt(results.seconds, 0)} s — ${m.cpus} × ${m.cpuModel}, Node ${m.node}`,
    `each figure: median of ${s.reps} run(s) of ${s.durationSeconds} s after ${s.warmupSeconds} s warm-up; spread = min..max of the runs`,
    '',
    textTable(
      ['scenario', 'figure', 'median', 'spread', 'vs floor'],
      resultRows(results).map((r) => [r.scenario, r.figure, r.median, r.spread, r.ratio]),
    ),
  );
  const ratios = Object.entries(results.ratios);
  if (ratios.length > 0) {
    out.push('', textTable(['ratio', '', 'value'], ratios.map(([k, v]) => [k, '', fmtRatio(v)])));
  }
  out.push(
    '',
    textTable(
      ['goal', 'status', 'ratio', 'margin'],
      results.targets.map((t) => [t.description, t.status, fmtRatio(t.value), t.margin === undefined ? '' : `${t.margin >= 0 ? '+' : ''}${fmtPct(t.margin, 1)}`]),
    ),
  );
  for (const r of Object.values(results.scenarios)) {
    for (const note of r.notes) out.push(`note (${r.name}): ${note}`);
  }
  return out.join('\n') + '\n';
}
