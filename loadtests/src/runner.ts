/** Runs a list of scenarios with shared floors and collects everything into one results object. */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { FloorServers } from './harness/floors.js';
import { emptyResult, ScenarioSkipped, type ScenarioResult } from './harness/result.js';
import type { Settings } from './harness/settings.js';
import { SCENARIOS } from './scenarios/index.js';
import { evaluateTargets, type TargetVerdict } from './targets.js';

export const RESULTS_SCHEMA = 1;

export interface RunResults {
  schema: number;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; platform: string; loadAverage: number[] };
  settings: { durationSeconds: number; warmupSeconds: number; reps: number; connections?: number; scenarios: string[] };
  scenarios: Record<string, ScenarioResult>;
  /** Every scenario's ratios, keyed `<scenario>.<ratio>`: what perf:check compares. */
  ratios: Record<string, number>;
  targets: TargetVerdict[];
}

export async function runSuite(names: readonly string[], settings: Settings): Promise<RunResults> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const floors = new FloorServers();
  const workDir = mkdtempSync(join(tmpdir(), 'laminar-loadtest-'));
  const scenarios: Record<string, ScenarioResult> = {};
  try {
    for (const name of names) {
      const scenario = SCENARIOS.find((s) => s.name === name);
      if (!scenario) throw new Error(`unknown scenario ${name}`);
      settings.log(`scenario ${name}: ${scenario.description}`);
      const result = emptyResult(scenario.name, scenario.title);
      const t0 = performance.now();
      try {
        await scenario.run({ settings, floors, workDir }, result);
      } catch (err) {
        if (err instanceof ScenarioSkipped) {
          result.status = 'skipped';
          result.reason = err.message;
        } else {
          // One broken scenario must not lose the others' figures; the report shows the failure.
          result.status = 'failed';
          result.reason = err instanceof Error ? (err.stack ?? err.message) : String(err);
        }
        settings.log(`  ${result.status}: ${result.reason?.split('\n')[0]}`);
      }
      result.seconds = (performance.now() - t0) / 1000;
      scenarios[name] = result;
    }
  } finally {
    await floors.close();
    rmSync(workDir, { recursive: true, force: true });
  }

  const ratios: Record<string, number> = {};
  for (const r of Object.values(scenarios)) for (const [k, v] of Object.entries(r.ratios)) ratios[`${r.name}.${k}`] = v;
  const cpu = cpus();
  return {
    schema: RESULTS_SCHEMA,
    startedAt,
    finishedAt: new Date().toISOString(),
    seconds: (performance.now() - started) / 1000,
    machine: {
      cpus: cpu.length,
      cpuModel: cpu[0]?.model ?? 'unknown',
      memoryGb: Math.round(totalmem() / 1024 ** 3),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      loadAverage: loadavg(),
    },
    settings: {
      durationSeconds: settings.durationSeconds,
      warmupSeconds: settings.warmupSeconds,
      reps: settings.reps,
      ...(settings.connections ? { connections: settings.connections } : {}),
      scenarios: [...names],
    },
    scenarios,
    ratios,
    targets: evaluateTargets(ratios),
  };
}
