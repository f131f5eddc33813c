/**
 * kinds: what each kind of execution environment costs, measured side by side in one run on the
 * same no-op, each against a floor (the same work without Laminar) measured in the same run:
 *
 * | kind | server | cold-start floor |
 * |---|---|---|
 * | Node.js, thread (`laminar:isolation=thread`) | default | a raw `new Worker` + import + first call |
 * | Node.js, sandboxed process (the default) | default (bubblewrap) | `bwrap … node` in the view Laminar builds, answering one Runtime API request |
 * | Node.js, unsandboxed process | `--sandbox off` | the same `node` without bubblewrap |
 *
 * The Node.js floors start node with the flags Laminar's runtime passes for the same MemorySize
 * (`--max-old-space-size`, as Lambda's own bootstrap does, and `--no-memory-reducer`): a heap
 * limit makes V8 reject Node's built-in code cache, a cost of the runtime's command line, not of
 * the sandbox.
 * | custom runtime (Python on the Runtime API) | default (bubblewrap) | the same bootstrap in the same view |
 *
 * For each kind: the cold start (end to end, and Init Duration) over its floor's spawn → response
 * (and spawn → first request for work); the host memory (RSS) each warm environment adds, over the
 * floor runtime's own; warm req/s, p99 and CPU per request on each side (server main thread,
 * its other threads, the processes under it, the load generator) at 10 connections, and at 100
 * for thread, sandboxed process and custom runtime, each over the bare Fastify echo and over the
 * floor of its kind: the same work with Lambda's semantics (one backend per request in flight)
 * without Laminar (harness/floors.ts: `piscina-each` and `workers`, `sandboxed-processes`,
 * `processes`, `runtime-api`). Every
 * kind has a server of its own, all up at once, and the kinds take turns within each repetition
 * (cold starts and warm runs alike), so the kinds can also be compared with each other:
 * sandboxed and unsandboxed processes are, repetition by repetition.
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
import type { CpuPerRequest } from '../harness/cpu.js';
import { FLOOR_LABELS, type FloorKind } from '../harness/floors.js';
import type { LoadRun } from '../harness/load.js';
import { measureInterleaved, pairedRatio, type PairedMeasured, type SteadySpec } from '../harness/measure.js';
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
/** Warm load at these connection counts; kinds without `at100` only at the first. */
const CONNECTION_COUNTS = [10, 100];
/** Fresh functions per repetition for the cold-start figure; each repetition's figure is their median. */
const COLD_PER_REP = 6;

interface Kind {
  key: 'thread' | 'sandboxed' | 'unsandboxed' | 'custom';
  label: string;
  fixture: string;
  deploy: DeployOptions;
  /** Whether the kind's server must run process environments in a sandbox (undefined: either). */
  sandboxed?: boolean;
  floor: { kind: 'worker' } | { kind: 'process'; request: Omit<RawProcessRequest, 'fixtureDir'> };
  floorLabel: string;
  /** The floors of its kind for warm load (one backend per request in flight), the first one the reference. */
  warmFloors: readonly FloorKind[];
  /** Measured at 100 connections too (the kinds the goals at 100 name); otherwise at 10 only. */
  at100: boolean;
  /** Where its environments spend CPU: threads of the server, or processes under it. */
  environmentSide: 'threads' | 'children';
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
    warmFloors: ['piscina-each', 'workers'],
    at100: true,
    environmentSide: 'threads',
  },
  {
    key: 'sandboxed',
    label: 'Node.js, sandboxed process',
    fixture: 'noop',
    deploy: { memoryMb, tags: { 'laminar:isolation': 'process' } },
    sandboxed: true,
    floor: { kind: 'process', request: { runtime: 'node', sandboxed: true, memoryMb } },
    floorLabel: 'raw bwrap + node (same heap flag), one Runtime API request',
    warmFloors: ['sandboxed-processes'],
    at100: true,
    environmentSide: 'children',
  },
  {
    key: 'unsandboxed',
    label: 'Node.js, unsandboxed process',
    fixture: 'noop',
    deploy: { memoryMb, tags: { 'laminar:isolation': 'process' } },
    sandboxed: false,
    floor: { kind: 'process', request: { runtime: 'node', sandboxed: false, memoryMb } },
    floorLabel: 'raw node (same heap flag), one Runtime API request',
    warmFloors: ['processes'],
    at100: false,
    environmentSide: 'children',
  },
  {
    key: 'custom',
    label: 'custom runtime (Python), sandboxed',
    fixture: 'noop-custom',
    deploy: { memoryMb, runtime: 'provided.al2023' },
    sandboxed: true,
    floor: { kind: 'process', request: { runtime: 'bootstrap', sandboxed: true } },
    floorLabel: 'raw bwrap + the same bootstrap, one request',
    warmFloors: ['runtime-api'],
    at100: true,
    environmentSide: 'children',
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

/** One kind's cold starts: the functions it starts, and what was measured, per repetition. */
class ColdSeries {
  readonly floorStarts: FloorStart[] = [];
  private readonly all = { laminar: [] as number[], floor: [] as number[] };
  private readonly perRep = { laminar: [] as number[], init: [] as number[], floor: [] as number[], floorReady: [] as number[], ratio: [] as number[], initRatio: [] as number[] };
  private rep = { laminar: [] as number[], init: [] as number[], floor: [] as number[], floorReady: [] as number[] };
  private next = 0;

  constructor(
    readonly kind: Kind,
    readonly server: LaminarServer,
    readonly names: string[],
  ) {}

  /** A function not started yet. */
  fresh(): string {
    return this.names[this.next++] as string;
  }

  add(floor: FloorStart, inv: SingleInvoke): void {
    this.floorStarts.push(floor);
    this.rep.floor.push(floor.responseMs);
    this.rep.floorReady.push(floor.readyMs);
    this.rep.laminar.push(inv.latencyMs);
    if (inv.initDurationMs !== undefined) this.rep.init.push(inv.initDurationMs);
  }

  endRep(): void {
    const r = this.rep;
    for (const k of Object.keys(r) as (keyof typeof r)[]) if (r[k].length > 0) this.perRep[k].push(median(r[k]));
    this.all.laminar.push(...r.laminar);
    this.all.floor.push(...r.floor);
    this.perRep.ratio.push(median(r.laminar) / median(r.floor));
    if (r.init.length > 0) this.perRep.initRatio.push(median(r.init) / median(r.floorReady));
    this.rep = { laminar: [], init: [], floor: [], floorReady: [] };
  }

  /** The median cold invoke of each repetition. */
  get laminarPerRep(): number[] {
    return this.perRep.laminar;
  }

  report(result: ScenarioResult): void {
    const { key: k, label, floorLabel } = this.kind;
    const p = this.perRep;
    result.values[`${k} cold start`] = { label: `${label}: cold invoke, end to end`, unit: 'ms', stat: stat(p.laminar) };
    if (p.init.length > 0) result.values[`${k} init`] = { label: `${label}: Init Duration`, unit: 'ms', stat: stat(p.init) };
    result.values[`${k} floor cold start`] = { label: `${label}: floor, ${floorLabel}`, unit: 'ms', stat: stat(p.floor) };
    result.values[`${k} floor ready`] = { label: `${label}: floor, start → ready for work`, unit: 'ms', stat: stat(p.floorReady) };
    setRatio(result, `${k}.cold_vs_floor`, `${label}: cold invoke / floor`, p.ratio);
    setRatio(result, `${k}.init_vs_floor`, `${label}: Init Duration / floor start → ready`, p.initRatio);
    result.samples[`${label}: cold invoke`] = this.all.laminar;
    result.samples[`floor: ${floorLabel}`] = this.all.floor;
  }
}

/**
 * Cold starts of fresh functions, each next to a cold start of its kind's floor. Every kind takes
 * its turn within each repetition, so the kinds' figures, not only their ratios, share the
 * machine's state of the moment.
 */
async function coldStarts(ctx: ScenarioContext, result: ScenarioResult, servers: Map<Kind, LaminarServer>, floors: Floors): Promise<ColdSeries[]> {
  const series: ColdSeries[] = [];
  for (const [kind, server] of servers) {
    const names = Array.from({ length: ctx.settings.reps * COLD_PER_REP + 1 }, (_, i) => `${kind.key}-cold-${i}`);
    for (const name of names) await server.deploy(name, kind.fixture, kind.deploy);
    series.push(new ColdSeries(kind, server, names));
  }
  const coldInvoke = async (s: ColdSeries) => {
    const name = s.fresh();
    const inv = await invokeOnce(s.server.url, LaminarServer.invokePath(name));
    if (inv.status !== 200) throw new Error(`${s.kind.label}: cold invoke of ${name} answered ${inv.status}: ${inv.body}`);
    if (!inv.coldStart) result.notes.push(`${s.kind.label}: the first invocation of ${name} was not a cold start.`);
    return inv;
  };
  // The first start of each pays one-off costs (page cache, the first thread or sandbox): not reported.
  for (const s of series) {
    await floors.measure(s.kind);
    await coldInvoke(s);
  }
  for (let rep = 0; rep < ctx.settings.reps; rep++) {
    ctx.settings.log(`  cold starts, repetition ${rep + 1}/${ctx.settings.reps}`);
    for (let i = 0; i < COLD_PER_REP; i++) {
      for (const s of i % 2 === 0 ? series : [...series].reverse()) {
        // Taking turns at going first: on a machine whose load drifts, neither side always comes second.
        if (i % 2 === 0) {
          const floor = await floors.measure(s.kind);
          s.add(floor, await coldInvoke(s));
        } else {
          const inv = await coldInvoke(s);
          s.add(await floors.measure(s.kind), inv);
        }
      }
    }
    for (const s of series) s.endRep();
  }
  for (const s of series) {
    s.report(result);
    // Idle, their runtimes would stay up for the rest of the run (each with its memory watchdog) and
    // tax the figures measured after them.
    for (const name of s.names) await s.server.deleteFunction(name);
  }
  const sandboxed = series.find((s) => s.kind.key === 'sandboxed');
  const unsandboxed = series.find((s) => s.kind.key === 'unsandboxed');
  if (sandboxed && unsandboxed) {
    const perRep = sandboxed.laminarPerRep.map((v, i) => v / (unsandboxed.laminarPerRep[i] ?? Number.NaN));
    setRatio(result, 'sandboxed.cold_vs_unsandboxed', 'cold invoke, sandboxed / unsandboxed process (same repetitions)', perRep);
  }
  return series;
}

/** Environments that exist for a function, idle or busy. */
async function environments(server: LaminarServer, fn: string): Promise<number> {
  const m = parseProm(await server.scrape());
  return ['idle', 'busy'].reduce((n, state) => n + (promValue(m, 'laminar_environments', { function: fn, state }) ?? 0), 0);
}

/** The kind's warm function, deployed once and warmed to each connection count in turn. */
function warmFunction(kind: Kind): string {
  return `${kind.key}-warm`;
}

/**
 * One environment per connection; at the first count, also the host memory (the server's
 * process tree) each adds.
 */
async function warmEnvironments(result: ScenarioResult, kind: Kind, server: LaminarServer, connections: number, floorStarts: FloorStart[] | undefined): Promise<SteadySpec> {
  const fn = warmFunction(kind);
  const path = LaminarServer.invokePath(fn);
  const pid = server.pid;
  const before = pid === undefined ? undefined : treeRssMb(pid);
  const envsBefore = await environments(server, fn);
  await prewarm(server, path, connections);
  const envs = (await environments(server, fn)) - envsBefore;
  const after = pid === undefined ? undefined : treeRssMb(pid);
  if (floorStarts !== undefined && before !== undefined && after !== undefined && envs > 0) {
    const perEnv = (after - before) / envs;
    const floorRss = median(floorStarts.map((f) => f.rssMb));
    result.values[`${kind.key} rss per environment`] = { label: `${kind.label}: host memory per warm environment (RSS)`, unit: 'MB', stat: stat([perEnv]) };
    result.values[`${kind.key} floor rss`] = { label: `${kind.label}: floor's memory (RSS)`, unit: 'MB', stat: stat(floorStarts.map((f) => f.rssMb)) };
    if (Number.isFinite(floorRss) && floorRss > 0) setRatio(result, `${kind.key}.rss_vs_floor`, `${kind.label}: RSS per environment / floor`, [perEnv / floorRss]);
  }
  return { url: server.url, path, body: '{}', connections, ...(pid !== undefined ? { serverPid: pid } : {}) };
}

/** The median of one CPU side over a set of runs, in µs per request. */
function cpuMedian(runs: readonly LoadRun[], side: keyof CpuPerRequest): number {
  const values = runs.flatMap((r) => (r.cpu === undefined ? [] : [r.cpu[side]]));
  return values.length > 0 ? median(values) : Number.NaN;
}

const CPU_SIDES: readonly [keyof CpuPerRequest, string][] = [
  ['mainUs', 'server main thread'],
  ['threadsUs', "server's other threads"],
  ['childrenUs', 'processes under the server'],
  ['loadgenUs', 'load generator'],
];

/**
 * CPU µs per request on each side, for the kind and for its floors, and two ratios: the main
 * thread against the echo's, the environment side against the floor of the kind's.
 */
function reportCpu(result: ScenarioResult, kind: Kind, label: string, prefix: string, m: PairedMeasured): void {
  const rows: [string, readonly LoadRun[]][] = [[kind.label, m.runs], ...Object.entries(m.floors).map(([f, fm]) => [`floor: ${FLOOR_LABELS[f as FloorKind]}`, fm?.runs ?? []] as [string, readonly LoadRun[]])];
  for (const [who, runs] of rows) {
    for (const [side, sideLabel] of CPU_SIDES) {
      const v = cpuMedian(runs, side);
      if (Number.isFinite(v)) result.values[`${prefix} cpu ${who} ${side}`] = { label: `${label}, ${who}: CPU per request, ${sideLabel}`, unit: 'µs', stat: stat([v]) };
    }
  }
  const echoMain = cpuMedian(m.floors.echo?.runs ?? [], 'mainUs');
  const main = cpuMedian(m.runs, 'mainUs');
  if (echoMain > 0 && Number.isFinite(main)) setRatio(result, `${prefix}.cpu_main_vs_echo`, `${label}: CPU per request on the main thread / the echo's`, [main / echoMain]);
  const reference = kind.warmFloors[0];
  const side = kind.environmentSide === 'threads' ? 'threadsUs' : 'childrenUs';
  const floorEnv = reference === undefined ? Number.NaN : cpuMedian(m.floors[reference]?.runs ?? [], side);
  const env = cpuMedian(m.runs, side);
  if (floorEnv > 0 && Number.isFinite(env)) setRatio(result, `${prefix}.cpu_env_vs_floor`, `${label}: CPU per request in the environments / the floor of its kind's`, [env / floorEnv]);
}

/** Warm load at one connection count: every kind in turn within each repetition, with the echo and the floors of the kinds. */
async function warmAt(ctx: ScenarioContext, result: ScenarioResult, servers: Map<Kind, LaminarServer>, connections: number, cold: ColdSeries[]): Promise<Record<string, PairedMeasured>> {
  const included = [...servers].filter(([kind]) => connections === CONNECTION_COUNTS[0] || kind.at100);
  const specs: Record<string, SteadySpec> = {};
  for (const [kind, server] of included) {
    ctx.settings.log(`  ${kind.label}: ${connections} warm environments`);
    const floorStarts = connections === CONNECTION_COUNTS[0] ? (cold.find((c) => c.kind === kind)?.floorStarts ?? []) : undefined;
    specs[kind.key] = await warmEnvironments(result, kind, server, connections, floorStarts);
  }
  const floorKinds: FloorKind[] = ['echo', ...new Set(included.flatMap(([kind]) => kind.warmFloors))];
  ctx.settings.log(`  warm at ${connections} connections, every kind in turn within each repetition (with ${floorKinds.join(', ')})`);
  const measured = await measureInterleaved(specs, floorKinds, ctx.floors, ctx.settings);
  for (const [kind] of included) {
    const m = measured[kind.key];
    if (!m) continue;
    // Each kind against the echo and the floors of its own kind only, its reference floor first.
    const own: PairedMeasured['floors'] = {};
    for (const f of [...kind.warmFloors, 'echo'] as FloorKind[]) if (m.floors[f]) own[f] = m.floors[f];
    const mine = { ...m, floors: own };
    const label = `${kind.label} @${connections}`;
    compareToFloors(result, label, `${kind.key}.c${connections}`, mine, `@${connections}`);
    reportCpu(result, kind, label, `${kind.key}.c${connections}`, mine);
  }
  return measured;
}

/** Servers for the kinds this machine can run; a kind that needs a sandbox it cannot have is left out, with a note. */
async function startServers(ctx: ScenarioContext, result: ScenarioResult, servers: Map<Kind, LaminarServer>): Promise<void> {
  // Every function is charged 3,538 MB; the budget is bookkeeping (a no-op uses tens of MB), so
  // it must not be what limits the environments of a run.
  const hostMemoryMb = KIND_MEMORY_MB * (ctx.settings.reps * COLD_PER_REP + 1 + 4 * Math.max(...CONNECTION_COUNTS));
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
      ctx.settings.log(`  cold starts of every kind, each next to one of its floor`);
      const cold = await coldStarts(ctx, result, servers, floors);
      // Read once the limits have settled (a server learns its cgroups shortly after start).
      for (const [kind, server] of servers) {
        if (kind.sandboxed === true) result.notes.push(`${kind.label}: ${(await server.health()).sandbox?.description ?? 'no sandbox in /health'}.`);
      }
      for (const [kind, server] of servers) await server.deploy(warmFunction(kind), kind.fixture, kind.deploy);
      const counts = ctx.settings.connections ? [ctx.settings.connections] : CONNECTION_COUNTS;
      for (const connections of counts) {
        const measured = await warmAt(ctx, result, servers, connections, cold);
        const sandboxed = measured.sandboxed;
        const unsandboxed = measured.unsandboxed;
        if (sandboxed && unsandboxed) {
          const prefix = `sandboxed.c${connections}`;
          setRatio(result, `${prefix}.rps_vs_unsandboxed`, 'warm req/s, sandboxed / unsandboxed process (run by run)', pairedRatio(sandboxed.runs, unsandboxed.runs, (r) => r.rps)?.runs ?? []);
          setRatio(result, `${prefix}.p99_vs_unsandboxed`, 'warm p99, sandboxed / unsandboxed process (run by run)', pairedRatio(sandboxed.runs, unsandboxed.runs, (r) => r.latency.p99)?.runs ?? []);
        }
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
