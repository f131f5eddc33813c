/**
 * kinds: what each kind of execution environment costs, measured side by side in one run on the
 * same no-op, each against a floor (the same work without Laminar) measured in the same run:
 *
 * | kind | server | cold-start floor |
 * |---|---|---|
 * | Node.js, thread (`laminar:isolation=thread`) | default | a raw `new Worker` + import + first call |
 * | Node.js, sandboxed process (the default) | default (bubblewrap) | `bwrap … node` in the view Laminar builds, answering one Runtime API request |
 * | Node.js, unsandboxed process | `--sandbox off` | the same `node` without bubblewrap |
 * | custom runtime (Python on the Runtime API) | default (bubblewrap) | the same bootstrap in the same view |
 *
 * For each kind: the cold start (end to end, and Init Duration) over its floor's spawn → response
 * (and spawn → first request for work); the host memory (RSS) each warm environment adds, over the
 * floor runtime's own; warm req/s and p99 at 10 connections over the bare Fastify echo. The warm
 * runs of every kind take turns within the same repetitions, so sandboxed and unsandboxed
 * processes are also compared run by run.
 *
 * Every function has 3,538 MB: two vCPUs' worth in Lambda's proportion (1,769 MB = one), as many
 * as a 2-core machine has, so a CPU quota in proportion to memory never holds a sandboxed
 * environment below what an unsandboxed one gets: the comparison is of the sandbox, not of a quota.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compareToFloors } from '../harness/compare.js';
import { invokeOnce, type SingleInvoke } from '../harness/invoke.js';
import { LaminarServer, type DeployOptions } from '../harness/laminar.js';
import { measureInterleaved, pairedRatio, type SteadySpec } from '../harness/measure.js';
import { FUNCTIONS_DIR } from '../harness/paths.js';
import { parseProm, promValue } from '../harness/prom.js';
import { RawProcessProbe, RawWorkerProbe } from '../harness/raw-probe.js';
import type { ScenarioResult } from '../harness/result.js';
import { treeRssMb } from '../harness/rss.js';
import { median, stat } from '../harness/stats.js';
import type { RawProcessRequest } from '../probes/raw-process.js';
import type { Scenario, ScenarioContext } from './scenario.js';
import { prewarm } from './warm.js';

export const KIND_MEMORY_MB = 3538;
const CONNECTIONS = 10;
/** Fresh functions per repetition for the cold-start figure; each repetition's figure is their median. */
const COLD_PER_REP = 4;

interface Kind {
  key: 'thread' | 'sandboxed' | 'unsandboxed' | 'custom';
  label: string;
  fixture: string;
  deploy: DeployOptions;
  /** Whether the kind's server must run process environments in a sandbox (undefined: either). */
  sandboxed?: boolean;
  floor: { kind: 'worker' } | { kind: 'process'; request: Omit<RawProcessRequest, 'fixtureDir'> };
  floorLabel: string;
}

const memoryMb = KIND_MEMORY_MB;
export const KINDS: readonly Kind[] = [
  {
    key: 'thread',
    label: 'Node.js, thread',
    fixture: 'noop',
    deploy: { memoryMb, tags: { 'laminar:isolation': 'thread' } },
    floor: { kind: 'worker' },
    floorLabel: 'raw new Worker + import + call',
  },
  {
    key: 'sandboxed',
    label: 'Node.js, sandboxed process',
    fixture: 'noop',
    deploy: { memoryMb, tags: { 'laminar:isolation': 'process' } },
    sandboxed: true,
    floor: { kind: 'process', request: { runtime: 'node', sandboxed: true } },
    floorLabel: 'raw bwrap + node, one Runtime API request',
  },
  {
    key: 'unsandboxed',
    label: 'Node.js, unsandboxed process',
    fixture: 'noop',
    deploy: { memoryMb, tags: { 'laminar:isolation': 'process' } },
    sandboxed: false,
    floor: { kind: 'process', request: { runtime: 'node', sandboxed: false } },
    floorLabel: 'raw node, one Runtime API request',
  },
  {
    key: 'custom',
    label: 'custom runtime (Python), sandboxed',
    fixture: 'noop-custom',
    deploy: { memoryMb, runtime: 'provided.al2023' },
    sandboxed: true,
    floor: { kind: 'process', request: { runtime: 'bootstrap', sandboxed: true } },
    floorLabel: 'raw bwrap + the same bootstrap, one request',
  },
];

/** One raw cold start of a kind's floor. */
interface FloorStart {
  /** Start → ready for work (the worker's ready message, the runtime's first GET next). */
  readyMs: number;
  /** Start → the first invocation's result. */
  responseMs: number;
  rssMb: number;
}

class Floors {
  private constructor(
    private readonly worker: RawWorkerProbe,
    private readonly process: RawProcessProbe,
  ) {}

  static async start(): Promise<Floors> {
    const worker = await RawWorkerProbe.start();
    try {
      return new Floors(worker, await RawProcessProbe.start());
    } catch (err) {
      await worker.stop();
      throw err;
    }
  }

  async measure(kind: Kind): Promise<FloorStart> {
    const dir = join(FUNCTIONS_DIR, kind.fixture);
    if (kind.floor.kind === 'worker') {
      const r = await this.worker.measure(pathToFileURL(join(dir, 'index.mjs')).href);
      return { readyMs: r.readyMs, responseMs: r.firstCallMs, rssMb: r.rssMb };
    }
    const r = await this.process.measure({ ...kind.floor.request, fixtureDir: dir });
    return { readyMs: r.nextMs, responseMs: r.responseMs, rssMb: r.rssMb };
  }

  async stop(): Promise<void> {
    await Promise.all([this.worker.stop(), this.process.stop()]);
  }
}

function setRatio(result: ScenarioResult, key: string, label: string, perRep: number[]): void {
  if (perRep.length === 0 || !perRep.every(Number.isFinite)) return;
  result.ratios[key] = median(perRep);
  result.ratioSpread[key] = stat(perRep);
  result.values[key] = { label, unit: '×', stat: stat(perRep) };
}

/** Cold starts of fresh functions, each next to a cold start of the kind's floor. */
async function coldStarts(ctx: ScenarioContext, result: ScenarioResult, kind: Kind, server: LaminarServer, floors: Floors): Promise<FloorStart[]> {
  const names = Array.from({ length: ctx.settings.reps * COLD_PER_REP + 1 }, (_, i) => `${kind.key}-cold-${i}`);
  for (const name of names) await server.deploy(name, kind.fixture, kind.deploy);
  const coldInvoke = async (name: string) => {
    const inv = await invokeOnce(server.url, LaminarServer.invokePath(name));
    if (inv.status !== 200) throw new Error(`${kind.label}: cold invoke of ${name} answered ${inv.status}: ${inv.body}`);
    if (!inv.coldStart) result.notes.push(`${kind.label}: the first invocation of ${name} was not a cold start.`);
    return inv;
  };
  // The first start of each pays one-off costs (page cache, the first thread or sandbox): not reported.
  await floors.measure(kind);
  await coldInvoke(names[0] as string);

  const all = { laminar: [] as number[], init: [] as number[], floor: [] as number[], floorReady: [] as number[] };
  const perRep = { laminar: [] as number[], init: [] as number[], floor: [] as number[], floorReady: [] as number[], cold: [] as number[], initRatio: [] as number[] };
  const floorStarts: FloorStart[] = [];
  for (let rep = 0; rep < ctx.settings.reps; rep++) {
    const rs = { laminar: [] as number[], init: [] as number[], floor: [] as number[], floorReady: [] as number[] };
    for (let i = 0; i < COLD_PER_REP; i++) {
      const name = names[1 + rep * COLD_PER_REP + i] as string;
      // Taking turns at going first: on a machine whose load drifts, neither side always comes second.
      let floor: FloorStart;
      let inv: SingleInvoke;
      if (i % 2 === 0) {
        floor = await floors.measure(kind);
        inv = await coldInvoke(name);
      } else {
        inv = await coldInvoke(name);
        floor = await floors.measure(kind);
      }
      floorStarts.push(floor);
      rs.floor.push(floor.responseMs);
      rs.floorReady.push(floor.readyMs);
      rs.laminar.push(inv.latencyMs);
      if (inv.initDurationMs !== undefined) rs.init.push(inv.initDurationMs);
    }
    for (const k of Object.keys(rs) as (keyof typeof rs)[]) {
      all[k].push(...rs[k]);
      if (rs[k].length > 0) perRep[k].push(median(rs[k]));
    }
    perRep.cold.push(median(rs.laminar) / median(rs.floor));
    if (rs.init.length > 0) perRep.initRatio.push(median(rs.init) / median(rs.floorReady));
  }
  // Idle, their runtimes would stay up for the rest of the run (each with its memory watchdog) and
  // tax the figures measured after them.
  for (const name of names) await server.deleteFunction(name);

  const k = kind.key;
  result.values[`${k} cold start`] = { label: `${kind.label}: cold invoke, end to end`, unit: 'ms', stat: stat(perRep.laminar) };
  if (perRep.init.length > 0) result.values[`${k} init`] = { label: `${kind.label}: Init Duration`, unit: 'ms', stat: stat(perRep.init) };
  result.values[`${k} floor cold start`] = { label: `${kind.label}: floor, ${kind.floorLabel}`, unit: 'ms', stat: stat(perRep.floor) };
  result.values[`${k} floor ready`] = { label: `${kind.label}: floor, start → ready for work`, unit: 'ms', stat: stat(perRep.floorReady) };
  setRatio(result, `${k}.cold_vs_floor`, `${kind.label}: cold invoke / floor`, perRep.cold);
  setRatio(result, `${k}.init_vs_floor`, `${kind.label}: Init Duration / floor start → ready`, perRep.initRatio);
  result.samples[`${kind.label}: cold invoke`] = all.laminar;
  result.samples[`floor: ${kind.floorLabel}`] = all.floor;
  return floorStarts;
}

/** Environments that exist for a function, idle or busy. */
async function environments(server: LaminarServer, fn: string): Promise<number> {
  const m = parseProm(await server.scrape());
  return ['idle', 'busy'].reduce((n, state) => n + (promValue(m, 'laminar_environments', { function: fn, state }) ?? 0), 0);
}

/** One environment per connection, and the host memory (the server's process tree) each adds. */
async function warmEnvironments(result: ScenarioResult, kind: Kind, server: LaminarServer, floorStarts: FloorStart[]): Promise<SteadySpec> {
  const fn = `${kind.key}-warm`;
  await server.deploy(fn, kind.fixture, kind.deploy);
  const path = LaminarServer.invokePath(fn);
  const pid = server.pid;
  const before = pid === undefined ? undefined : treeRssMb(pid);
  await prewarm(server, path, CONNECTIONS);
  const envs = await environments(server, fn);
  const after = pid === undefined ? undefined : treeRssMb(pid);
  if (before !== undefined && after !== undefined && envs > 0) {
    const perEnv = (after - before) / envs;
    const floorRss = median(floorStarts.map((f) => f.rssMb));
    result.values[`${kind.key} rss per environment`] = { label: `${kind.label}: host memory per warm environment (RSS)`, unit: 'MB', stat: stat([perEnv]) };
    result.values[`${kind.key} floor rss`] = { label: `${kind.label}: floor's memory (RSS)`, unit: 'MB', stat: stat(floorStarts.map((f) => f.rssMb)) };
    if (Number.isFinite(floorRss) && floorRss > 0) setRatio(result, `${kind.key}.rss_vs_floor`, `${kind.label}: RSS per environment / floor`, [perEnv / floorRss]);
  }
  return { url: server.url, path, body: '{}', connections: CONNECTIONS };
}

/** Servers for the kinds this machine can run; a kind that needs a sandbox it cannot have is left out, with a note. */
async function startServers(ctx: ScenarioContext, result: ScenarioResult, servers: Map<Kind, LaminarServer>): Promise<void> {
  // Every function is charged 3,538 MB; the budget is bookkeeping (a no-op uses tens of MB), so
  // it must not be what limits the environments of a run.
  const hostMemoryMb = KIND_MEMORY_MB * (ctx.settings.reps * COLD_PER_REP + 1 + 4 * CONNECTIONS);
  for (const kind of KINDS) {
    const flags = { 'host-memory-mb': hostMemoryMb, ...(kind.sandboxed === false ? { sandbox: 'off' } : {}) };
    const server = await LaminarServer.start({ flags });
    servers.set(kind, server);
    const sandbox = (await server.health()).sandbox;
    if (kind.sandboxed === true && sandbox?.enabled !== true) {
      result.notes.push(`${kind.label}: not measured, process environments are not sandboxed here (${sandbox?.warnings.join('; ') ?? 'no sandbox in /health'}).`);
      servers.delete(kind);
      await server.stop();
    }
  }
}

export const kinds: Scenario = {
  name: 'kinds',
  title: 'Kinds of environment',
  description: `thread, sandboxed and unsandboxed process, custom runtime, at ${KIND_MEMORY_MB} MB (two vCPUs' worth, so a CPU quota never sets the pace): cold start, RSS per environment, warm req/s, each against its floor`,
  async run(ctx: ScenarioContext, result: ScenarioResult) {
    const servers = new Map<Kind, LaminarServer>();
    const floors = await Floors.start();
    try {
      await startServers(ctx, result, servers);
      const floorStarts = new Map<Kind, FloorStart[]>();
      for (const [kind, server] of servers) {
        ctx.settings.log(`  ${kind.label}: cold starts, each next to one of its floor (${kind.floorLabel})`);
        floorStarts.set(kind, await coldStarts(ctx, result, kind, server, floors));
      }
      const specs: Record<string, SteadySpec> = {};
      for (const [kind, server] of servers) {
        ctx.settings.log(`  ${kind.label}: ${CONNECTIONS} warm environments`);
        specs[kind.key] = await warmEnvironments(result, kind, server, floorStarts.get(kind) ?? []);
      }
      ctx.settings.log(`  warm at ${CONNECTIONS} connections, every kind in turn within each repetition (with the echo floor)`);
      const measured = await measureInterleaved(specs, ['echo'], ctx.floors, ctx.settings);
      for (const kind of servers.keys()) {
        const m = measured[kind.key];
        if (m) compareToFloors(result, `${kind.label} @${CONNECTIONS}`, `${kind.key}.c${CONNECTIONS}`, m, `@${CONNECTIONS}`);
      }
      const sandboxed = measured.sandboxed;
      const unsandboxed = measured.unsandboxed;
      if (sandboxed && unsandboxed) {
        const prefix = `sandboxed.c${CONNECTIONS}`;
        setRatio(result, `${prefix}.rps_vs_unsandboxed`, 'warm req/s, sandboxed / unsandboxed process (run by run)', pairedRatio(sandboxed.runs, unsandboxed.runs, (r) => r.rps)?.runs ?? []);
        setRatio(result, `${prefix}.p99_vs_unsandboxed`, 'warm p99, sandboxed / unsandboxed process (run by run)', pairedRatio(sandboxed.runs, unsandboxed.runs, (r) => r.latency.p99)?.runs ?? []);
      }
      result.charts.push({
        title: 'Cold starts by kind, each next to its floor: every sample (ms)',
        kind: 'strip',
        yLabel: 'ms',
        keys: Object.keys(result.samples).map((key) => ({ key, label: key })),
      });
    } finally {
      await Promise.allSettled([...servers.values()].map((s) => s.stop()));
      await floors.stop();
    }
  },
};
