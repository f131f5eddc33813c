/** The two ends of perf:check that touch files: compare with baseline.json, or rewrite it. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { RunResults } from '../runner.js';
import { compareToBaseline, type Baseline } from './compare.js';
import { formatCheck } from './format.js';
import { DEFAULT_TOLERANCES, FALLBACK_TOLERANCE } from './tolerances.js';

export const BASELINE_SCHEMA = 1;

function skippedScenarios(results: RunResults): string[] {
  return Object.values(results.scenarios)
    .filter((s) => s.status === 'skipped')
    .map((s) => s.name);
}

export function readBaseline(file: string): Baseline {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Baseline;
  if (parsed.schema !== BASELINE_SCHEMA || typeof parsed.ratios !== 'object') throw new Error(`${file} is not a baseline (schema ${BASELINE_SCHEMA})`);
  return parsed;
}

/** Prints the comparison; returns the exit code (1 on a regression or a missing metric). */
export function checkAgainstBaseline(results: RunResults, file: string): number {
  if (!existsSync(file)) {
    process.stderr.write(`perf:check: no baseline at ${file}; create one with npm run perf:baseline\n`);
    return 2;
  }
  const baseline = readBaseline(file);
  const report = compareToBaseline({ ratios: results.ratios, skippedScenarios: skippedScenarios(results) }, baseline, DEFAULT_TOLERANCES, FALLBACK_TOLERANCE);
  process.stdout.write('\n' + formatCheck(report, file));
  return report.ok ? 0 : 1;
}

/** Writes the run's ratios as the new baseline, keeping any tolerance overrides already in the file. */
export function writeBaseline(results: RunResults, file: string): number {
  const failed = Object.values(results.scenarios).filter((s) => s.status === 'failed');
  if (failed.length > 0) {
    process.stderr.write(`perf:baseline: not writing a baseline from a run with failed scenarios (${failed.map((s) => s.name).join(', ')})\n`);
    return 1;
  }
  const previous = existsSync(file) ? readBaseline(file) : undefined;
  const baseline: Baseline = {
    schema: BASELINE_SCHEMA,
    createdAt: results.finishedAt,
    machine: results.machine,
    ratios: Object.fromEntries(Object.entries(results.ratios).sort(([a], [b]) => a.localeCompare(b))),
    tolerances: previous?.tolerances ?? {},
  };
  writeFileSync(file, JSON.stringify(baseline, null, 2) + '\n');
  process.stdout.write(`\nperf:baseline: wrote ${Object.keys(baseline.ratios).length} ratios to ${file}\n`);
  const skipped = skippedScenarios(results);
  if (skipped.length > 0) process.stdout.write(`(skipped scenarios, not in the baseline: ${skipped.join(', ')})\n`);
  return 0;
}
