/**
 * What an environment's cgroup costs the server that wakes it. One floor of a sandboxed kind (a
 * runtime per request in flight, in Laminar's bubblewrap view, no cgroup) serves a fixed request
 * rate while its runtimes' processes are moved, run by run, between three placements: no group of
 * their own (the floor as it is); a group per runtime made by the build's cgroup driver with the
 * limits Laminar gives an environment (memory, pids, and the CPU quota of its MemorySize); and, on
 * cgroup v1, those groups' memory and pids hierarchies only, not the cpu one. CPU per request
 * comes from /proc: the floor server's main thread (which writes to each runtime's socket or pipe
 * and so wakes it) and the runtimes' processes. A fixed rate, not a closed loop, so every run does
 * the same work whatever it costs; the placements take turns in a rotating order, and the figures
 * are medians of differences run by run. Needs root and writable cgroups.
 *
 *     node loadtests/dist/probes/cgroup-wake-cpu.js [--floor runtime-api|sandboxed-processes]
 *         [--runtimes 100] [--rate 800] [--seconds 4] [--pairs 6] [--memory-mb 3538] [--dist <laminar dist/>]
 */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { childrenOf, descendantsOf, meterCpu } from '../harness/cpu.js';
import { FLOOR_PATH, FloorServers, type FloorKind } from '../harness/floors.js';
import { REPO_DIR } from '../harness/paths.js';
import { median } from '../harness/stats.js';

/** The shapes of the build's cgroup modules used here (src/environments/sandbox/). */
interface CgroupGroup {
  readonly procsFiles: readonly string[];
}
interface CgroupSupport {
  readonly version: 'v1' | 'v2';
  readonly parentPaths: readonly string[];
  describe(): string;
  create(name: string, limits: object): Promise<CgroupGroup>;
  dispose(): Promise<void>;
}
interface CgroupModules {
  probeCgroups(options: { parent: string }): Promise<{ ok: true; support: CgroupSupport } | { ok: false; reason: string }>;
  limitsFor(memoryMb: number): object;
}

type Placement = 'none' | 'all' | 'no-cpu';
const LABELS: Record<Placement, string> = {
  none: 'runtimes in no cgroup of their own (the floor)',
  all: 'each runtime in its own memory, pids and cpu groups, as an environment',
  'no-cpu': 'each runtime in its own memory and pids groups only',
};

interface Floor {
  url: string;
  pid: number;
}

interface Figures {
  mainUs: number;
  runtimesUs: number;
}

/** A cgroup v1 procs file of the cpu hierarchy (mounted alone or with cpuacct). */
const isCpuHierarchy = (file: string): boolean => file.split('/').some((segment) => segment.split(',').includes('cpu'));

/** Each runtime's processes, with the group made for that runtime. */
interface Runtime {
  pids: number[];
  group: CgroupGroup;
}

/** Writes every runtime's processes into the procs files of `placement`. */
function place(runtimes: readonly Runtime[], placement: Placement, rootProcs: readonly string[]): void {
  for (const { pids, group } of runtimes) {
    const files =
      placement === 'none' ? rootProcs : placement === 'all' ? group.procsFiles : [...group.procsFiles.filter((f) => !isCpuHierarchy(f)), ...rootProcs.filter(isCpuHierarchy)];
    for (const pid of pids) for (const file of files) writeFileSync(file, String(pid));
  }
}

async function measure(target: Floor, rate: number, connections: number, seconds: number): Promise<Figures> {
  // overallRate is autocannon's (requests per second over all connections); its typings omit it.
  const options = { url: `${target.url}${FLOOR_PATH}`, method: 'POST' as const, body: '{}', connections, overallRate: rate };
  const load = (duration: number) => autocannon({ ...options, duration });
  await load(1);
  const meter = meterCpu(target.pid);
  const run = await load(seconds);
  const cpu = meter.stop(run.requests.total);
  if (cpu === undefined) throw new Error('no request was answered');
  return { mainUs: cpu.mainUs, runtimesUs: cpu.childrenUs };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      floor: { type: 'string', default: 'runtime-api' },
      runtimes: { type: 'string', default: '100' },
      rate: { type: 'string', default: '800' },
      seconds: { type: 'string', default: '4' },
      pairs: { type: 'string', default: '6' },
      'memory-mb': { type: 'string', default: '3538' },
      dist: { type: 'string', default: join(REPO_DIR, 'dist') },
    },
  });
  const floor = values.floor as FloorKind;
  if (floor !== 'runtime-api' && floor !== 'sandboxed-processes') throw new Error('--floor must be runtime-api or sandboxed-processes');
  const runtimes = Number(values.runtimes);
  const rate = Number(values.rate);
  const memoryMb = Number(values['memory-mb']);
  const load = (file: string) => import(pathToFileURL(join(values.dist, 'environments', 'sandbox', file)).href) as Promise<Partial<CgroupModules>>;
  const modules = { ...(await load('cgroups.js')), ...(await load('cgroup-limits.js')) } as CgroupModules;
  const probe = await modules.probeCgroups({ parent: `laminar-probe-${process.pid}` });
  if (!probe.ok) throw new Error(`no usable cgroups: ${probe.reason}`);
  const support = probe.support;
  const placements: Placement[] = support.version === 'v1' ? ['none', 'all', 'no-cpu'] : ['none', 'all'];
  // The hierarchies' roots: where a process is in no group of its own.
  const rootProcs = support.parentPaths.map((p) => join(dirname(p), 'cgroup.procs'));
  const floors = new FloorServers();
  try {
    await floors.prewarm(floor, runtimes);
    const target: Floor = { url: await floors.url(floor), pid: (await floors.pid(floor)) as number };
    const placed: Runtime[] = [];
    for (const top of childrenOf(target.pid)) placed.push({ pids: [top, ...descendantsOf(top)], group: await support.create(`runtime-${placed.length}`, modules.limitsFor(memoryMb)) });
    process.stdout.write(`${floor} floor, ${placed.length} runtimes, ${rate} requests/s at ${runtimes} connections, ${values.seconds} s × ${values.pairs}, cgroups: ${support.describe()}\n`);
    const runs = new Map<Placement, Figures[]>(placements.map((p) => [p, []]));
    for (let pair = 0; pair < Number(values.pairs); pair++) {
      // Each round starts with another placement, so none always runs first or after the same one.
      for (let i = 0; i < placements.length; i++) {
        const placement = placements[(i + pair) % placements.length] as Placement;
        place(placed, placement, rootProcs);
        runs.get(placement)?.push(await measure(target, rate, runtimes, Number(values.seconds)));
      }
    }
    place(placed, 'none', rootProcs);
    const base = runs.get('none') ?? [];
    for (const placement of placements) {
      const figures = runs.get(placement) ?? [];
      const diff = (pick: (f: Figures) => number) => median(figures.map((f, i) => pick(f) - pick(base[i] as Figures)));
      const spread = (pick: (f: Figures) => number) => figures.map((f) => pick(f).toFixed(0)).join(', ');
      process.stdout.write(
        `${LABELS[placement]}\n  µs per request: server main thread ${median(figures.map((f) => f.mainUs)).toFixed(1)} (${spread((f) => f.mainUs)}), runtimes ${median(figures.map((f) => f.runtimesUs)).toFixed(1)} (${spread((f) => f.runtimesUs)})` +
          (placement === 'none' ? '\n' : `\n  against no group, round by round (median): main thread ${diff((f) => f.mainUs).toFixed(1)}, runtimes ${diff((f) => f.runtimesUs).toFixed(1)}\n`),
      );
    }
  } finally {
    await floors.close();
    await support.dispose();
  }
}

await main();
