/**
 * kinds: what each kind of execution environment costs, measured side by side in one run on the
 * same no-op: a Node.js function in a worker thread (the default), the same function in a process
 * of its own (`laminar:isolation=process`), and a custom runtime (`provided.al2023`, a Python
 * loop on the Runtime API). For each: warm throughput and p99 at 10 connections as ratios to the
 * bare Fastify echo measured in the same repetitions, the cold start (end to end and Init
 * Duration), and the host memory (RSS) each warm environment adds.
 */
import { compareToFloors } from '../harness/compare.js';
import { invokeOnce } from '../harness/invoke.js';
import { LaminarServer, withLaminar, type DeployOptions } from '../harness/laminar.js';
import { measurePaired } from '../harness/measure.js';
import { parseProm, promValue } from '../harness/prom.js';
import type { ScenarioResult } from '../harness/result.js';
import { treeRssMb } from '../harness/rss.js';
import { stat } from '../harness/stats.js';
import type { Scenario, ScenarioContext } from './scenario.js';
import { prewarm } from './warm.js';

interface Kind {
  key: string;
  label: string;
  fixture: string;
  deploy: DeployOptions;
}

const KINDS: readonly Kind[] = [
  { key: 'thread', label: 'Node.js, thread', fixture: 'noop', deploy: {} },
  { key: 'process', label: 'Node.js, process', fixture: 'noop', deploy: { tags: { 'laminar:isolation': 'process' } } },
  { key: 'custom', label: 'custom runtime (Python)', fixture: 'noop-custom', deploy: { runtime: 'provided.al2023' } },
];

const CONNECTIONS = 10;
/** Fresh functions per repetition for the cold-start figure. */
const COLD_PER_REP = 3;

async function environments(server: LaminarServer, fn: string): Promise<number> {
  const m = parseProm(await server.scrape());
  return ['idle', 'busy'].reduce((n, state) => n + (promValue(m, 'laminar_environments', { function: fn, state }) ?? 0), 0);
}

export const kinds: Scenario = {
  name: 'kinds',
  title: 'Kinds of environment',
  description: 'thread vs process vs custom runtime: warm req/s and p99 vs the echo floor, cold start, RSS per environment',
  async run(ctx: ScenarioContext, result: ScenarioResult) {
    for (const kind of KINDS) {
      // One server per kind, so memory is measured against that kind's own baseline.
      await withLaminar({}, async (server) => {
        ctx.settings.log(`  ${kind.label}: cold starts`);
        const cold = Array.from({ length: ctx.settings.reps * COLD_PER_REP }, (_, i) => `${kind.key}-cold-${i}`);
        for (const name of cold) await server.deploy(name, kind.fixture, kind.deploy);
        const latency: number[] = [];
        const init: number[] = [];
        for (const name of cold) {
          const inv = await invokeOnce(server.url, LaminarServer.invokePath(name));
          if (inv.status !== 200) throw new Error(`${kind.label}: cold invoke answered ${inv.status}: ${inv.body}`);
          latency.push(inv.latencyMs);
          if (inv.initDurationMs !== undefined) init.push(inv.initDurationMs);
        }
        result.values[`${kind.key} cold start`] = { label: `${kind.label}: cold invoke, end to end`, unit: 'ms', stat: stat(latency) };
        if (init.length > 0) result.values[`${kind.key} init`] = { label: `${kind.label}: Init Duration`, unit: 'ms', stat: stat(init) };

        const fn = `${kind.key}-warm`;
        await server.deploy(fn, kind.fixture, kind.deploy);
        const path = LaminarServer.invokePath(fn);
        const pid = server.pid;
        const before = pid === undefined ? undefined : treeRssMb(pid);
        ctx.settings.log(`  ${kind.label}: warm at ${CONNECTIONS} connections (with the echo floor)`);
        await prewarm(server, path, CONNECTIONS);
        const envs = await environments(server, fn);
        const after = pid === undefined ? undefined : treeRssMb(pid);
        if (before !== undefined && after !== undefined && envs > 0) {
          result.values[`${kind.key} rss per environment`] = {
            label: `${kind.label}: host memory per warm environment (RSS)`,
            unit: 'MB',
            stat: stat([(after - before) / envs]),
          };
        }
        const measured = await measurePaired({ url: server.url, path, body: '{}', connections: CONNECTIONS }, ['echo'], ctx.floors, ctx.settings);
        compareToFloors(result, `${kind.label} @${CONNECTIONS}`, `${kind.key}.c${CONNECTIONS}`, measured);
      });
    }
  },
};
