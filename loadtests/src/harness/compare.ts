/** Ratios of a load figure to a floor: the numbers that stay comparable across machines. */
import { FLOOR_LABELS, type FloorKind } from './floors.js';
import { pairedRatio, type PairedMeasured } from './measure.js';
import type { ScenarioResult } from './result.js';

/**
 * Records the floors next to the figure, and `<prefix>.rps_vs_<floor>` (higher is better) and
 * `<prefix>.p99_vs_<floor>` (lower is better) as medians of per-repetition ratios. A ratio that
 * cannot be stated honestly (a zero or missing side) is left out. Targets measured against the
 * same floor runs (measureInterleaved) pass one `floorLabel`, so the floor is listed once.
 */
export function compareToFloors(result: ScenarioResult, label: string, prefix: string, measured: PairedMeasured, floorLabel = label): void {
  result.loads[label] = measured.figure;
  for (const [kind, floor] of Object.entries(measured.floors) as [FloorKind, PairedMeasured][]) {
    result.floors[`${FLOOR_LABELS[kind]} ${floorLabel}`] = floor.figure;
    // The first floor compared is the one the tables show next to the figure.
    result.floorOf[label] ??= { kind, prefix };
    const rps = pairedRatio(measured.runs, floor.runs, (r) => r.rps);
    const p99 = pairedRatio(measured.runs, floor.runs, (r) => r.latency.p99);
    if (rps) {
      result.ratios[`${prefix}.rps_vs_${kind}`] = rps.median;
      result.ratioSpread[`${prefix}.rps_vs_${kind}`] = rps;
    }
    if (p99) {
      result.ratios[`${prefix}.p99_vs_${kind}`] = p99.median;
      result.ratioSpread[`${prefix}.p99_vs_${kind}`] = p99;
    }
  }
}
