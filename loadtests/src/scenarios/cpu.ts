/**
 * cpu: where each request's CPU goes, by thread and by kind of work, for a warm no-op in thread
 * environments at 100 connections and for the floor of its kind (a piscina pool per request in
 * flight), each sampled by Linux `perf` (see profile/perf.ts) while the load runs. The figures
 * are CPU µs per request: the main thread, the environments' threads, V8's helper threads (the
 * parallel scavenger, concurrent marking) and the libuv pool, split into JavaScript, garbage
 * collection, page faults, message passing and the kernel.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { FLOOR_PATH } from '../harness/floors.js';
import { LaminarServer, withLaminar } from '../harness/laminar.js';
import { runLoad, type LoadRun } from '../harness/load.js';
import { ScenarioSkipped, type ScenarioResult } from '../harness/result.js';
import { stat } from '../harness/stats.js';
import { perfAvailable, recordPerf, summarizePerf, type PerfSummary, type ThreadGroup, type WorkKind } from '../profile/perf.js';
import type { Scenario, ScenarioContext } from './scenario.js';
import { prewarm } from './warm.js';

const CONNECTIONS = 100;
const GROUPS: readonly ThreadGroup[] = ['main', 'environments', 'v8 helpers', 'libuv pool', 'other'];
const WORK: readonly WorkKind[] = ['JavaScript and builtins', 'garbage collection', 'page faults', 'message passing', 'syscalls and kernel', 'native'];

/** Runs the load once unrecorded (warm-up), then once under perf; the summary divides by that run's responses. */
async function sampled(ctx: ScenarioContext, pid: number, url: string, path: string, file: string): Promise<{ run: LoadRun; summary: PerfSummary }> {
  await runLoad({ url, path, body: '{}', connections: CONNECTIONS, durationSeconds: 1 });
  const perf = recordPerf(pid, file);
  const run = await runLoad({ url, path, body: '{}', connections: CONNECTIONS, durationSeconds: Math.max(4, ctx.settings.durationSeconds * 2) });
  await perf.stop();
  const responses = run.ok + run.throttled + run.other;
  return { run, summary: summarizePerf(file, responses) };
}

function report(result: ScenarioResult, who: 'laminar' | 'floor', label: string, s: PerfSummary, run: LoadRun): void {
  result.values[`${who} rps`] = { label: `${label} @${CONNECTIONS}: req/s while sampled`, unit: 'req/s', stat: stat([run.responseRps]) };
  for (const group of GROUPS) {
    const us = s.byGroup[group];
    if (us === undefined) continue;
    result.values[`${who} ${group}`] = { label: `${label}: CPU per request, ${group}`, unit: 'µs', stat: stat([us]) };
  }
  result.values[`${who} total`] = { label: `${label}: CPU per request, the whole server`, unit: 'µs', stat: stat([s.totalUs]) };
  for (const group of ['main', 'environments'] as const) {
    for (const work of WORK) {
      const us = s.byWork[group]?.[work];
      if (us !== undefined && us >= 0.5) result.values[`${who} ${group} ${work}`] = { label: `${label}: ${group}, ${work}`, unit: 'µs', stat: stat([us]) };
    }
    const top = (s.topSelf[group] ?? []).slice(0, 8).map((e) => `${e.us.toFixed(1)} ${e.symbol.slice(0, 90)}`);
    if (top.length > 0) result.notes.push(`${label}, ${group}, heaviest leaves (µs per request): ${top.join(' · ')}`);
  }
}

export const cpu: Scenario = {
  name: 'cpu',
  title: 'CPU per request by thread (perf)',
  description: `perf samples the server's threads during warm thread invokes @${CONNECTIONS} and the piscina-per-request floor: CPU µs per request by thread and work`,
  async run(ctx: ScenarioContext, result: ScenarioResult) {
    if (!perfAvailable()) throw new ScenarioSkipped('perf is not installed or may not sample processes here (linux-perf; kernel.perf_event_paranoid)');
    const laminarFile = join(ctx.workDir, 'laminar.perf');
    // --perf-basic-prof names JIT code for perf; V8's log it implies goes to the scratch folder.
    const nodeArgs = ['--perf-basic-prof', '--no-logfile-per-isolate', `--logfile=${join(ctx.workDir, 'v8.log')}`];
    const laminar = await withLaminar({ nodeArgs }, async (server) => {
      await server.deploy('cpu-noop', 'noop');
      const path = LaminarServer.invokePath('cpu-noop');
      await prewarm(server, path, CONNECTIONS);
      const pid = server.pid;
      if (pid === undefined) throw new Error('the server has no pid');
      ctx.settings.log(`  sampling Laminar @${CONNECTIONS}`);
      try {
        return await sampled(ctx, pid, server.url, path, laminarFile);
      } finally {
        rmSync(`/tmp/perf-${pid}.map`, { force: true });
      }
    });
    report(result, 'laminar', 'Node.js, thread', laminar.summary, laminar.run);

    await ctx.floors.prewarm('piscina-each', CONNECTIONS);
    const floorPid = await ctx.floors.pid('piscina-each');
    if (floorPid === undefined) throw new Error('the piscina-each floor has no pid');
    ctx.settings.log(`  sampling the floor @${CONNECTIONS}`);
    const floor = await sampled(ctx, floorPid, await ctx.floors.url('piscina-each'), FLOOR_PATH, join(ctx.workDir, 'floor.perf'));
    report(result, 'floor', 'floor: a piscina pool per request in flight', floor.summary, floor.run);

    result.ratios['cpu_vs_floor'] = laminar.summary.totalUs / floor.summary.totalUs;
    for (const group of ['main', 'environments'] as const) {
      const a = laminar.summary.byGroup[group];
      const b = floor.summary.byGroup[group];
      if (a !== undefined && b !== undefined && b > 0) result.ratios[`${group}_cpu_vs_floor`] = a / b;
    }
  },
};
