/**
 * cold: the first invocation of N fresh functions (one new environment each), one at a time,
 * alternating with a raw `new Worker` + import + first call of the same module in a separate
 * process. Reports the end-to-end cold invoke, Laminar's reported Init Duration, and both as
 * ratios to the raw worker measured moments before.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { invokeOnce } from '../harness/invoke.js';
import { LaminarServer, withLaminar } from '../harness/laminar.js';
import { FUNCTIONS_DIR } from '../harness/paths.js';
import { RawWorkerProbe } from '../harness/raw-probe.js';
import type { ScenarioResult } from '../harness/result.js';
import { median, stat } from '../harness/stats.js';
import type { Scenario, ScenarioContext } from './scenario.js';

/** Cold starts per repetition; each repetition's figure is the median of these. */
const PER_REP = 6;
const MODULE_URL = pathToFileURL(join(FUNCTIONS_DIR, 'noop', 'index.mjs')).href;

async function deployMany(server: LaminarServer, names: string[]): Promise<void> {
  // A few at a time: CreateFunction unzips and writes SQLite; all at once would only queue.
  for (let i = 0; i < names.length; i += 4) await Promise.all(names.slice(i, i + 4).map((n) => server.deploy(n, 'noop')));
}

export const cold: Scenario = {
  name: 'cold',
  title: 'Cold starts',
  description: 'first invoke of fresh functions vs a raw new Worker + import of the same module',
  async run(ctx: ScenarioContext, result: ScenarioResult) {
    const reps = ctx.settings.reps;
    const names = Array.from({ length: reps * PER_REP + 1 }, (_, i) => `cold-${i}`);
    const probe = await RawWorkerProbe.start();
    try {
      await withLaminar({}, async (server) => {
        await deployMany(server, names);
        // The first thread a process ever starts pays one-off costs on both sides; not a cold start to report.
        await probe.measure(MODULE_URL);
        await invokeOnce(server.url, LaminarServer.invokePath(names[0] as string));

        const samples = { latency: [] as number[], init: [] as number[], rawReady: [] as number[], rawFirst: [] as number[] };
        const perRep = { latency: [] as number[], init: [] as number[], rawReady: [] as number[], rawFirst: [] as number[], latencyRatio: [] as number[], initRatio: [] as number[] };
        let warmAnswers = 0;
        for (let rep = 0; rep < reps; rep++) {
          ctx.settings.log(`  cold starts, repetition ${rep + 1}/${reps}`);
          const repSamples = { latency: [] as number[], init: [] as number[], rawReady: [] as number[], rawFirst: [] as number[] };
          for (let i = 0; i < PER_REP; i++) {
            const raw = await probe.measure(MODULE_URL);
            const name = names[1 + rep * PER_REP + i] as string;
            const inv = await invokeOnce(server.url, LaminarServer.invokePath(name));
            if (inv.status !== 200) throw new Error(`cold invoke of ${name} answered ${inv.status}: ${inv.body}`);
            if (!inv.coldStart) warmAnswers++;
            repSamples.latency.push(inv.latencyMs);
            if (inv.initDurationMs !== undefined) repSamples.init.push(inv.initDurationMs);
            repSamples.rawReady.push(raw.readyMs);
            repSamples.rawFirst.push(raw.firstCallMs);
          }
          for (const k of Object.keys(repSamples) as (keyof typeof repSamples)[]) {
            samples[k].push(...repSamples[k]);
            perRep[k].push(median(repSamples[k]));
          }
          perRep.latencyRatio.push(median(repSamples.latency) / median(repSamples.rawFirst));
          perRep.initRatio.push(median(repSamples.init) / median(repSamples.rawReady));
        }
        if (warmAnswers > 0) result.notes.push(`${warmAnswers} first invocation(s) did not report X-Laminar-Cold-Start: true.`);

        result.values.latency = { label: 'cold invoke, end to end (HTTP)', unit: 'ms', stat: stat(perRep.latency) };
        result.values.init = { label: 'Init Duration as reported (REPORT line)', unit: 'ms', stat: stat(perRep.init) };
        result.values.rawFirst = { label: 'raw new Worker + import + first call', unit: 'ms', stat: stat(perRep.rawFirst) };
        result.values.rawReady = { label: 'raw new Worker + import', unit: 'ms', stat: stat(perRep.rawReady) };
        result.values.latencyRatio = { label: 'cold invoke / raw worker + import + call', unit: '×', stat: stat(perRep.latencyRatio) };
        result.values.initRatio = { label: 'Init Duration / raw worker + import', unit: '×', stat: stat(perRep.initRatio) };
        result.ratios.latency_vs_raw = median(perRep.latencyRatio);
        result.ratioSpread.latency_vs_raw = stat(perRep.latencyRatio);
        if (samples.init.length > 0) {
          result.ratios.init_vs_raw = median(perRep.initRatio);
          result.ratioSpread.init_vs_raw = stat(perRep.initRatio);
        }

        result.samples['Laminar cold invoke (HTTP)'] = samples.latency;
        result.samples['Laminar Init Duration'] = samples.init;
        result.samples['raw Worker + import + call'] = samples.rawFirst;
        result.samples['raw Worker + import'] = samples.rawReady;
        result.charts.push({
          title: 'Cold starts: every sample (ms)',
          kind: 'strip',
          yLabel: 'ms',
          keys: Object.keys(result.samples).map((key) => ({ key, label: key })),
        });
      });
    } finally {
      await probe.stop();
    }
  },
};
