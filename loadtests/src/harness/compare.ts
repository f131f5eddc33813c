/** Ratios of a load figure to a floor: the numbers that stay comparable across machines. */
import type { LoadFigure } from './figures.js';
import type { FloorKind } from './floors.js';
import type { ScenarioResult } from './result.js';
import { ratio } from './stats.js';

/**
 * Records `<prefix>.rps_vs_<floor>` (higher is better) and `<prefix>.p99_vs_<floor>` (lower is
 * better). A ratio that cannot be stated honestly (a zero or missing side) is left out.
 */
export function compareToFloor(result: ScenarioResult, label: string, prefix: string, floor: LoadFigure, kind: FloorKind): void {
  const figure = result.loads[label];
  if (!figure) throw new Error(`no load figure ${label} to compare`);
  // The first floor compared is the one the tables show next to the figure.
  result.floorOf[label] ??= { kind, prefix };
  const rps = ratio(figure.rps.median, floor.rps.median);
  const p99 = ratio(figure.p99.median, floor.p99.median);
  if (rps !== undefined) result.ratios[`${prefix}.rps_vs_${kind}`] = rps;
  if (p99 !== undefined) result.ratios[`${prefix}.p99_vs_${kind}`] = p99;
}
