/** What a scenario reports, in a shape the terminal table, the JSON file and the HTML report all read. */
import type { LoadFigure } from './figures.js';
import type { SeriesPoint } from './prom.js';
import type { Stat } from './stats.js';
import type { ProfileSummary } from '../profile/cpuprofile.js';

export type ScenarioStatus = 'ok' | 'skipped' | 'failed';

/** A scalar figure over repetitions. */
export interface Value {
  label: string;
  unit: string;
  stat: Stat;
}

/** A chart the HTML report draws from this scenario's series or samples. */
export interface ChartSpec {
  title: string;
  /** line: series over time; strip: sample distributions side by side; bars: one bar per value. */
  kind: 'line' | 'strip';
  yLabel: string;
  /** The x axis of a line chart (default: seconds). */
  xLabel?: string;
  /** Keys into `series` (line) or `samples` (strip), with legend labels. */
  keys: { key: string; label: string }[];
  logScale?: boolean;
}

export interface ScenarioResult {
  name: string;
  title: string;
  status: ScenarioStatus;
  /** Why it was skipped or failed. */
  reason?: string;
  seconds: number;
  /** Steady-load figures, by label (e.g. "@100"). */
  loads: Record<string, LoadFigure>;
  /** The floors measured next to them, by label (e.g. "Fastify echo @100"). */
  floors: Record<string, LoadFigure>;
  /** Which floor each load is shown against, and the prefix of its ratio keys. */
  floorOf: Record<string, { kind: string; prefix: string }>;
  values: Record<string, Value>;
  /**
   * Ratios to a floor or to an expectation: the machine-independent numbers that perf:check
   * compares. Keys are local (the runner prefixes the scenario name).
   */
  ratios: Record<string, number>;
  /** The per-repetition spread behind a ratio, where it has one. */
  ratioSpread: Record<string, Stat>;
  series: Record<string, SeriesPoint[]>;
  samples: Record<string, number[]>;
  charts: ChartSpec[];
  notes: string[];
  profiles?: ProfileSummary[];
}

export function emptyResult(name: string, title: string): ScenarioResult {
  return { name, title, status: 'ok', seconds: 0, loads: {}, floors: {}, floorOf: {}, values: {}, ratios: {}, ratioSpread: {}, series: {}, samples: {}, charts: [], notes: [] };
}

/** Thrown by a scenario when the server lacks a feature it needs; the run goes on. */
export class ScenarioSkipped extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ScenarioSkipped';
  }
}

/** The operation is not served (yet): Laminar answers 404 UnknownOperationException. */
export function isUnknownOperation(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; Code?: string };
  return e?.name === 'UnknownOperationException' || e?.Code === 'UnknownOperationException';
}
