/**
 * The cgroup driver against the machine's real kernel cgroups (v1 on the machines Laminar is
 * tested on, as root). Each run uses parents of its own, so runs on one machine never meet, and
 * removes every group it made. Without writable cgroups the suite is skipped with the probe's
 * reason in its title.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { limitsFor, probeCgroups, type Cgroup, type CgroupSupport } from '../../../src/environments/sandbox/cgroups.js';

const RUN = `laminar-test-${process.pid}-${randomBytes(3).toString('hex')}`;
const probe = await probeCgroups({ parent: RUN });
const title = probe.ok ? `real cgroups: ${probe.support.describe()}` : `real cgroups (skipped: ${probe.reason})`;
const MB = 1024 * 1024;

const supports: CgroupSupport[] = probe.ok ? [probe.support] : [];
const children: ChildProcess[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const support of supports) await support.dispose();
});

async function supportFor(parent: string): Promise<CgroupSupport> {
  const p = await probeCgroups({ parent });
  if (!p.ok) throw new Error(p.reason);
  supports.push(p.support);
  return p.support;
}

/** A group's interface file, in whichever of its directories (one per v1 hierarchy) has it. */
function fileOf(group: Cgroup, name: string): string {
  const found = group.procsFiles.map((f) => join(dirname(f), name)).find((f) => existsSync(f));
  if (found === undefined) throw new Error(`${group.path} has no ${name}`);
  return found;
}

const read = (group: Cgroup, name: string): string => readFileSync(fileOf(group, name), 'utf8').trim();
/** The processes in the group; v1 lists each in every hierarchy. */
const members = (group: Cgroup): number[] => [
  ...new Set(group.procsFiles.flatMap((f) => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map(Number) : []))),
];

/** Resolves when `stream` has shown `pattern`; rejects if the child exits first. */
function shows(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (pattern.test(text)) {
        child[stream]?.off('data', onData);
        resolve();
      }
    };
    child[stream]?.on('data', onData);
    child.once('exit', (code, signal) => reject(new Error(`exited (${code ?? signal}) before ${stream} showed ${pattern}: ${text}`)));
  });
}

interface Inside {
  child: ChildProcess;
  /** Resolves once the process is in every hierarchy of the group, before the command starts. */
  joined: Promise<void>;
  exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/**
 * Runs `command` in `group` the way an environment is started: a shell writes its own pid into
 * every cgroup.procs file, says so, and execs the command, so nothing it allocates is charged
 * outside the group.
 */
function spawnInside(group: Cgroup, command: string, args: string[]): Inside {
  const script = 'for f in $GROUP_PROCS; do echo $$ > "$f" || exit 97; done; echo joined; exec "$@"';
  const child = spawn('sh', ['-c', script, 'sh', command, ...args], {
    env: { ...process.env, GROUP_PROCS: group.procsFiles.join(' ') },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  return { child, joined: shows(child, 'stdout', /^joined$/m), exited };
}

describe.skipIf(!probe.ok)(title, () => {
  const support = supports[0] as CgroupSupport;

  it('writes memory, memory + swap, the CPU quota and the pids limit', async () => {
    const group = await support.create('limits', limitsFor(64, { pidsMax: 20 }));
    if (support.version === 'v1') {
      expect(read(group, 'memory.limit_in_bytes')).toBe(String(64 * MB));
      // memsw exists only where the kernel accounts swap.
      if (group.procsFiles.some((f) => existsSync(join(dirname(f), 'memory.memsw.limit_in_bytes')))) {
        expect(read(group, 'memory.memsw.limit_in_bytes')).toBe(String(64 * MB));
      }
      expect(read(group, 'cpu.cfs_period_us')).toBe('100000');
      expect(read(group, 'cpu.cfs_quota_us')).toBe('3618');
    } else {
      expect(read(group, 'memory.max')).toBe(String(64 * MB));
      expect(read(group, 'cpu.max')).toBe('3618 100000');
    }
    expect(read(group, 'pids.max')).toBe('20');
    await group.remove();
  });

  it('OOM-kills a process that outgrows 64 MB, counts the kill and keeps the peak', async () => {
    // No CPU quota: at 64 MB Lambda's proportion is 3.6% of a CPU, and Node.js would take seconds to start.
    const group = await support.create('oom', limitsFor(64, { cpu: false }));
    // 20 MB at a time, filled so every page is touched; ten rounds would be 200 MB, far past the limit.
    const program = `const held = [];
      for (let i = 1; i <= 10; i++) held.push(Buffer.alloc(20 * 1024 * 1024, i));
      console.log('still alive at', process.memoryUsage().rss);`;
    const inside = spawnInside(group, process.execPath, ['-e', program]);
    let stdout = '';
    inside.child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const [code, signal] = await inside.exited;
    expect({ code, signal, stdout }).toEqual({ code: null, signal: 'SIGKILL', stdout: 'joined\n' });
    expect(group.oomKills()).toBeGreaterThanOrEqual(1);
    const peak = group.peakBytes();
    expect(peak).toBeGreaterThan(40 * MB);
    expect(peak).toBeLessThanOrEqual(64 * MB);
    await group.remove();
  });

  it('keeps a fork bomb within pidsMax, and killAll ends every process of it', async () => {
    const group = await support.create('fork-bomb', limitsFor(64, { pidsMax: 20, cpu: false }));
    // The classic bomb: every process forks two more, forever. bash (unlike dash) keeps going when
    // a fork is refused, so the bomb is still forking while killAll runs.
    const bomb = spawn('bash', ['-c', 'read go; bomb() { bomb | bomb & }; bomb; wait'], { stdio: ['pipe', 'ignore', 'pipe'] });
    children.push(bomb);
    const exited = once(bomb, 'exit');
    await group.join(bomb.pid as number);
    // Started only once it is certainly inside: outside, nothing would stop it (root ignores RLIMIT_NPROC).
    expect(members(group)).toEqual([bomb.pid]);
    bomb.stdin?.write('go\n');
    // The kernel counts each fork it refused at the limit. The first bash may already have exited
    // (its background job returns at once) while its descendants go on forking, so the signal is
    // the group's own counter, not the first process.
    const deadline = Date.now() + 30_000;
    while (!/^max [1-9]/m.test(read(group, 'pids.events'))) {
      if (Date.now() > deadline) throw new Error(`no fork refused at pids.max: ${read(group, 'pids.events')}`);
      await new Promise((r) => setTimeout(r, 10));
    }

    expect(members(group).length).toBeLessThanOrEqual(20);
    expect(Number(read(group, 'pids.current'))).toBeLessThanOrEqual(20);
    expect(read(group, 'pids.events')).toMatch(/^max [1-9]/m);

    await group.killAll();
    expect(members(group)).toEqual([]);
    await exited;
    await group.remove();
  });

  it('changes the CPU quota later, and lifts it', async () => {
    const group = await support.create('cpu', limitsFor(128));
    const quota = () => (support.version === 'v1' ? read(group, 'cpu.cfs_quota_us') : read(group, 'cpu.max'));
    expect(quota()).toBe(support.version === 'v1' ? '7236' : '7236 100000');
    await group.setCpu({ quotaUs: 50_000, periodUs: 100_000 });
    expect(quota()).toBe(support.version === 'v1' ? '50000' : '50000 100000');
    await group.setCpu(undefined);
    expect(quota()).toBe(support.version === 'v1' ? '-1' : 'max 100000');
    await group.remove();
  });

  it('throttles a busy process to its quota', async () => {
    const group = await support.create('throttled', limitsFor(128));
    // 1 ms of every 100 ms: a loop needing several ms of CPU runs out of quota in some period
    // however loaded the machine is.
    await group.setCpu({ quotaUs: 1_000, periodUs: 100_000 });
    const inside = spawnInside(group, 'sh', ['-c', 'i=0; while [ $i -lt 5000 ]; do i=$((i+1)); done']);
    expect(await inside.exited).toEqual([0, null]);
    expect(Number(/^nr_throttled (\d+)$/m.exec(read(group, 'cpu.stat'))?.[1])).toBeGreaterThan(0);
    await group.remove();
  });

  it('reports current use, and starts the peak again from it after resetPeak', async () => {
    const group = await support.create('peak', limitsFor(128, { cpu: false }));
    const program = `const held = Buffer.alloc(30 * 1024 * 1024, 1); console.log('ready'); process.stdin.once('data', () => process.exit(0));`;
    const inside = spawnInside(group, process.execPath, ['-e', program]);
    await shows(inside.child, 'stdout', /^ready$/m);
    expect(group.currentBytes()).toBeGreaterThan(30 * MB);
    inside.child.stdin?.write('done\n');
    await inside.exited;

    const peak = group.peakBytes();
    expect(peak).toBeGreaterThan(30 * MB);
    if (group.resetPeak === undefined) return; // v2 before Linux 6.12
    group.resetPeak();
    expect(group.peakBytes()).toBeLessThan(peak - 25 * MB);
    await group.remove();
  });

  it('remove() kills what runs inside and leaves no directory', async () => {
    const group = await support.create('gone', limitsFor(128));
    const inside = spawnInside(group, 'sleep', ['1000']);
    await inside.joined;
    await group.remove();
    expect((await inside.exited)[1]).toBe('SIGKILL');
    for (const file of group.procsFiles) expect(existsSync(dirname(file))).toBe(false);
    await group.remove();
  });

  it("removeStale() clears what an earlier server left under its parent, and no other parent's groups", async () => {
    const parent = `${RUN}-restart`;
    const earlier = await supportFor(parent);
    const neighbour = await supportFor(`${RUN}-neighbour`);
    const busy = await earlier.create('left-busy', limitsFor(128));
    const idle = await earlier.create('left-idle', limitsFor(128));
    const kept = await neighbour.create('kept', limitsFor(128));
    const inside = spawnInside(busy, 'sleep', ['1000']);
    await inside.joined;

    const restarted = await supportFor(parent);
    expect(await restarted.removeStale()).toBe(2);
    expect((await inside.exited)[1]).toBe('SIGKILL');
    for (const group of [busy, idle]) for (const file of group.procsFiles) expect(existsSync(dirname(file))).toBe(false);
    for (const file of kept.procsFiles) expect(existsSync(file)).toBe(true);
    expect(await restarted.removeStale()).toBe(0);
  });

  it.skipIf(support?.version !== 'v1')('removeStale() also clears cpu groups an earlier build nested under the parent', async () => {
    const parent = `${RUN}-nested`;
    const earlier = await supportFor(parent);
    const group = await earlier.create('left', limitsFor(128));
    const cpuParent = earlier.parentPaths.find((d) => existsSync(join(d, 'cpu.shares'))) as string;
    // The layout before: the cpu group under the parent, like the memory and pids ones.
    const old = join(cpuParent, 'left-nested');
    mkdirSync(old);
    const inside = spawnInside({ ...group, procsFiles: [join(old, 'cgroup.procs')] }, 'sleep', ['1000']);
    await inside.joined;

    const restarted = await supportFor(parent);
    expect(await restarted.removeStale()).toBe(2);
    expect((await inside.exited)[1]).toBe('SIGKILL');
    expect(existsSync(old)).toBe(false);
    for (const file of group.procsFiles) expect(existsSync(dirname(file))).toBe(false);
  });

  it('weighs each environment as one process: v1 cpu groups beside the parent, v2 a parent weighed by its environments', async () => {
    const weighed = await supportFor(`${RUN}-weight`);
    if (weighed.version === 'v1') {
      // The cpu hierarchy's parent directory holds no groups; each group sits at the mount root
      // with the weight of one process, so nothing has to be kept in step with the live ones.
      const cpuParent = weighed.parentPaths.find((d) => existsSync(join(d, 'cpu.shares'))) as string;
      const groups = [await weighed.create('a', limitsFor(128)), await weighed.create('b', limitsFor(128))];
      for (const group of groups) {
        const dir = dirname(fileOf(group, 'cpu.shares'));
        expect(dirname(dir)).toBe(dirname(cpuParent));
        expect(basename(dir)).toMatch(new RegExp(`^${basename(cpuParent)}\\.[ab]$`));
        expect(read(group, 'cpu.shares')).toBe('1024');
        // memory and pids stay under the parent
        expect(group.procsFiles.filter((f) => dirname(dirname(f)) === dirname(cpuParent))).toHaveLength(1);
      }
      expect(readdirSync(cpuParent, { withFileTypes: true }).filter((e) => e.isDirectory())).toEqual([]);
      for (const group of groups) await group.remove();
      return;
    }
    const parentFile = weighed.parentPaths.map((d) => join(d, 'cpu.weight')).find((f) => existsSync(f)) as string;
    const weight = () => Number(readFileSync(parentFile, 'utf8').trim());
    const a = await weighed.create('a', limitsFor(128));
    expect(weight()).toBe(100);
    const b = await weighed.create('b', limitsFor(128));
    const c = await weighed.create('c', limitsFor(128));
    expect(weight()).toBe(300);
    await b.remove();
    await b.remove();
    expect(weight()).toBe(200);
    await a.remove();
    await c.remove();
    expect(weight()).toBe(100);
  });

  it('names the file the kernel refused, and leaves no half-made group', async () => {
    const limits = { ...limitsFor(128), cpu: { quotaUs: 10, periodUs: 100_000 } };
    const file = support.version === 'v1' ? 'cpu.cfs_quota_us' : 'cpu.max';
    // v1 names the cpu group `<parent>.refused` (beside the parent), v2 `<parent>/refused`.
    await expect(support.create('refused', limits)).rejects.toThrow(new RegExp(`Cannot write '10( 100000)?' to \\S+[/.]refused/${file.replace('.', '\\.')}: EINVAL`));
    for (const dir of support.parentPaths) {
      expect(existsSync(join(dir, 'refused'))).toBe(false);
      expect(existsSync(`${dir}.refused`)).toBe(false);
    }
  });
});
