/**
 * Detection and the cgroup v2 file protocol, against temporary folders laid out like cgroup
 * mounts. The machines Laminar is tested on mount cgroup v1 controllers and a v2 hierarchy that
 * offers none, so v2 cannot be exercised on a real kernel here; `probeCgroups({ root })` reads
 * the mount table relative to a folder instead. A plain folder differs from cgroupfs in two ways
 * the tests stand in for: mkdir creates no interface files (the driver's writes create them, and
 * files that only some kernels have are laid out in the parent group, where the driver looks for
 * them), and rmdir refuses a folder that still holds files (the kernel drops them with the group).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { limitsFor, probeCgroups, type Cgroup, type CgroupSupport } from '../../../src/environments/sandbox/cgroups.js';
import { HYBRID, V1_WITH_EMPTY_UNIFIED, V2_ONLY, DOCKER_V1 } from './mount-samples.js';

const PARENT = 'laminar-fake';
const ALL_V2_CONTROLLERS = 'cpuset cpu io memory hugetlb pids rdma misc';
const scratch = mkdtempSync(join(tmpdir(), 'laminar-cgroup-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let machines = 0;
/** A fake machine: its mount table and a root folder the mount points are taken relative to. */
function machine(mountTable: string): { root: string; mountInfoPath: string; at: (path: string) => string } {
  const root = join(scratch, `machine-${++machines}`);
  mkdirSync(root);
  const mountInfoPath = join(root, 'mountinfo');
  writeFileSync(mountInfoPath, mountTable);
  return { root, mountInfoPath, at: (path) => join(root, path) };
}

/** Lays out a cgroup2 mount offering `controllers`, and the files a parent group shows on the kernel being imitated. */
function layOutV2(
  mount: string,
  controllers: string,
  options: { enabled?: string; parentFiles?: Record<string, string>; readOnly?: string[] } = {},
): void {
  mkdirSync(mount, { recursive: true });
  writeFileSync(join(mount, 'cgroup.controllers'), `${controllers}\n`);
  writeFileSync(join(mount, 'cgroup.subtree_control'), options.enabled ?? '');
  if (options.parentFiles === undefined) return;
  mkdirSync(join(mount, PARENT));
  for (const [name, text] of Object.entries(options.parentFiles)) writeFileSync(join(mount, PARENT, name), text);
  for (const name of options.readOnly ?? []) chmodSync(join(mount, PARENT, name), 0o444);
}

/** What a 6.12+ kernel shows in a group with memory, cpu and pids enabled, trimmed to the files whose presence varies. */
const RECENT_KERNEL = { 'memory.peak': '0\n', 'memory.swap.max': 'max\n', 'memory.oom.group': '0\n', 'cgroup.kill': '' };

function layOutV1(root: string, dirs: string[]): void {
  for (const dir of dirs) mkdirSync(join(root, dir), { recursive: true });
}

async function supportOf(options: Parameters<typeof probeCgroups>[0]): Promise<CgroupSupport> {
  const probe = await probeCgroups(options);
  if (!probe.ok) throw new Error(probe.reason);
  return probe.support;
}

const read = (file: string): string => readFileSync(file, 'utf8');

describe('probeCgroups: which hierarchy', () => {
  it('uses v2 when its root offers memory, cpu and pids, and enables them below the root and below the parent', async () => {
    const m = machine(V2_ONLY);
    layOutV2(m.at('/sys/fs/cgroup'), ALL_V2_CONTROLLERS);
    const support = await supportOf({ parent: PARENT, mountInfoPath: m.mountInfoPath, root: m.root });
    expect(support.version).toBe('v2');
    expect(support.describe()).toBe(`cgroup v2 (memory, cpu, pids) at ${m.at('/sys/fs/cgroup')}/${PARENT}`);
    expect(support.parentPaths).toEqual([m.at(`/sys/fs/cgroup/${PARENT}`)]);
    expect(read(m.at('/sys/fs/cgroup/cgroup.subtree_control'))).toBe('+memory +cpu +pids');
    expect(read(m.at(`/sys/fs/cgroup/${PARENT}/cgroup.subtree_control`))).toBe('+memory +cpu +pids');
  });

  it('enables at the root only what is not enabled there yet', async () => {
    const m = machine(V2_ONLY);
    layOutV2(m.at('/sys/fs/cgroup'), ALL_V2_CONTROLLERS, { enabled: 'cpu io memory\n' });
    await supportOf({ parent: PARENT, mountInfoPath: m.mountInfoPath, root: m.root });
    expect(read(m.at('/sys/fs/cgroup/cgroup.subtree_control'))).toBe('+pids');
  });

  it('prefers v2 over v1 when both are usable', async () => {
    const m = machine(HYBRID);
    layOutV2(m.at('/sys/fs/cgroup/unified'), ALL_V2_CONTROLLERS);
    layOutV1(m.root, ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/cpu,cpuacct', '/sys/fs/cgroup/pids']);
    expect((await supportOf({ parent: PARENT, mountInfoPath: m.mountInfoPath, root: m.root })).version).toBe('v2');
  });

  it('uses v1 when the v2 hierarchy offers no controllers (this machine and CI), with the parent in each hierarchy', async () => {
    const m = machine(V1_WITH_EMPTY_UNIFIED);
    layOutV2(m.at('/sys/fs/cgroup/unified'), '');
    layOutV1(m.root, ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/cpu', '/sys/fs/cgroup/pids']);
    const support = await supportOf({ parent: PARENT, mountInfoPath: m.mountInfoPath, root: m.root });
    expect(support.version).toBe('v1');
    expect(support.describe()).toBe(`cgroup v1 (memory, cpu, pids) at ${m.at('/sys/fs/cgroup')}/{memory,cpu,pids}/${PARENT}`);
    for (const dir of support.parentPaths) expect(existsSync(dir)).toBe(true);
    expect(support.parentPaths).toHaveLength(3);
  });

  it('creates one directory for co-mounted controllers (cpu,cpuacct)', async () => {
    const m = machine(HYBRID);
    layOutV2(m.at('/sys/fs/cgroup/unified'), '');
    layOutV1(m.root, ['/sys/fs/cgroup/memory', '/sys/fs/cgroup/cpu,cpuacct', '/sys/fs/cgroup/pids']);
    const support = await supportOf({ parent: PARENT, mountInfoPath: m.mountInfoPath, root: m.root });
    expect(support.parentPaths).toEqual(['memory', 'cpu,cpuacct', 'pids'].map((c) => m.at(`/sys/fs/cgroup/${c}/${PARENT}`)));
  });

  it('says why when no hierarchy is usable', async () => {
    const v2 = machine(V2_ONLY);
    layOutV2(v2.at('/sys/fs/cgroup'), 'cpuset io');
    const probe = await probeCgroups({ parent: PARENT, mountInfoPath: v2.mountInfoPath, root: v2.root });
    expect(probe).toEqual({
      ok: false,
      reason:
        `No usable cgroup hierarchy: cgroup v2 at ${v2.at('/sys/fs/cgroup')} offers cpuset io in cgroup.controllers; memory, cpu, pids ` +
        'missing (on a hybrid machine they are bound to cgroup v1 hierarchies); no cgroup v1 hierarchy mounts memory, cpu or pids',
    });

    const container = machine(DOCKER_V1);
    expect(await probeCgroups({ parent: PARENT, mountInfoPath: container.mountInfoPath, root: container.root })).toEqual({
      ok: false,
      reason: 'No usable cgroup hierarchy: no cgroup2 file system is mounted; cgroup v1 does not mount the cpu controller(s)',
    });

    const missing = join(scratch, 'no-such-mountinfo');
    expect(await probeCgroups({ parent: PARENT, mountInfoPath: missing })).toEqual({
      ok: false,
      reason: `No usable cgroup hierarchy: cannot read ${missing}: ENOENT`,
    });
  });

  it('names the file it could not write', async () => {
    const m = machine(V2_ONLY);
    layOutV2(m.at('/sys/fs/cgroup'), ALL_V2_CONTROLLERS);
    // A directory where the file should be makes the write fail as a refusing kernel would.
    mkdirSync(m.at(`/sys/fs/cgroup/${PARENT}/cgroup.subtree_control`), { recursive: true });
    const probe = await probeCgroups({ parent: PARENT, mountInfoPath: m.mountInfoPath, root: m.root });
    expect(probe.ok).toBe(false);
    expect(!probe.ok && probe.reason).toContain(`Cannot write '+memory +cpu +pids' to ${m.at(`/sys/fs/cgroup/${PARENT}/cgroup.subtree_control`)}: EISDIR`);
  });

  it('refuses a parent that is not one directory name', async () => {
    await expect(probeCgroups({ parent: '../escape' })).rejects.toThrow(/parent = "..\/escape", must be a single directory name/);
  });
});

describe('cgroup v2 file protocol (a folder laid out like a cgroup2 mount)', () => {
  async function v2Support(parentFiles: Record<string, string>, readOnly: string[] = []): Promise<{ support: CgroupSupport; parentDir: string }> {
    const m = machine(V2_ONLY);
    layOutV2(m.at('/sys/fs/cgroup'), ALL_V2_CONTROLLERS, { parentFiles, readOnly });
    const support = await supportOf({ parent: PARENT, mountInfoPath: m.mountInfoPath, root: m.root });
    return { support, parentDir: m.at(`/sys/fs/cgroup/${PARENT}`) };
  }

  const children: ReturnType<typeof spawn>[] = [];
  afterAll(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  /** Files the kernel drops with a group; a plain folder keeps them, so rmdir needs them gone first. */
  function dropInterfaceFiles(group: Cgroup): void {
    for (const name of readdirSync(group.path)) rmSync(join(group.path, name));
  }

  it('writes the limits, with swap off and the whole group taken by an OOM kill', async () => {
    const { support, parentDir } = await v2Support(RECENT_KERNEL);
    const group = await support.create('env-1', limitsFor(128));
    expect(group.path).toBe(join(parentDir, 'env-1'));
    expect(group.procsFiles).toEqual([join(parentDir, 'env-1', 'cgroup.procs')]);
    const file = (name: string) => read(join(group.path, name));
    expect(file('memory.max')).toBe(String(128 * 1024 * 1024));
    expect(file('memory.swap.max')).toBe('0');
    expect(file('memory.oom.group')).toBe('1');
    expect(file('cpu.max')).toBe('7236 100000');
    expect(file('pids.max')).toBe('1024');

    await group.setCpu({ quotaUs: 50_000, periodUs: 100_000 });
    expect(file('cpu.max')).toBe('50000 100000');
    await group.setCpu(undefined);
    expect(file('cpu.max')).toBe('max 100000');
  });

  it('leaves out what an older kernel lacks', async () => {
    const { support } = await v2Support({});
    const group = await support.create('env-old', limitsFor(256, { cpu: false }));
    expect(readdirSync(group.path).sort()).toEqual(['cpu.max', 'memory.max', 'pids.max']);
    expect(read(join(group.path, 'cpu.max'))).toBe('max 100000');
  });

  it('joins a process by writing its pid, and never the server itself', async () => {
    const { support } = await v2Support(RECENT_KERNEL);
    const group = await support.create('env-join', limitsFor(128));
    await group.join(4242);
    expect(read(group.procsFiles[0] as string)).toBe('4242');
    await expect(group.join(process.pid)).rejects.toThrow(/is the server itself/);
    await expect(group.join(0)).rejects.toThrow(/pid = 0, must be a process id/);
  });

  it('reads the peak from memory.peak, and resets it through the descriptor it reads from', async () => {
    const { support } = await v2Support(RECENT_KERNEL);
    const group = await support.create('env-peak', limitsFor(128));
    writeFileSync(join(group.path, 'memory.peak'), '52428800\n');
    writeFileSync(join(group.path, 'memory.current'), '1048576\n');
    expect(group.peakBytes()).toBe(52_428_800);
    expect(group.currentBytes()).toBe(1_048_576);
    expect(group.resetPeak).toBeDefined();
    group.resetPeak?.();
    expect(read(join(group.path, 'memory.peak')).startsWith('reset')).toBe(true);
    // The kernel answers a reset descriptor with the usage since the reset; here the test plays the kernel.
    writeFileSync(join(group.path, 'memory.peak'), '2097152\n');
    expect(group.peakBytes()).toBe(2_097_152);
  });

  it('falls back to memory.current without memory.peak, and cannot reset a read-only memory.peak', async () => {
    const old = await v2Support({});
    const group = await old.support.create('env-current', limitsFor(128));
    writeFileSync(join(group.path, 'memory.current'), '3145728\n');
    expect(group.peakBytes()).toBe(3_145_728);
    expect(group.resetPeak).toBeUndefined();

    // Before 6.12 memory.peak is mode 0444; the driver reads the mode, as root may write any file.
    const readOnly = await v2Support({ 'memory.peak': '0\n' }, ['memory.peak']);
    const fixed = await readOnly.support.create('env-ro', limitsFor(128));
    expect(fixed.resetPeak).toBeUndefined();
    writeFileSync(join(fixed.path, 'memory.peak'), '4194304\n');
    expect(fixed.peakBytes()).toBe(4_194_304);
  });

  it('counts OOM kills from memory.events', async () => {
    const { support } = await v2Support(RECENT_KERNEL);
    const group = await support.create('env-oom', limitsFor(128));
    writeFileSync(join(group.path, 'memory.events'), 'low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 1\n');
    expect(group.oomKills()).toBe(1);
    writeFileSync(join(group.path, 'memory.events'), 'low 0\nhigh 0\nmax 0\noom 0\n');
    expect(group.oomKills()).toBe(0);
  });

  it('kills through cgroup.kill, then waits until cgroup.procs is empty', async () => {
    const { support } = await v2Support(RECENT_KERNEL);
    const group = await support.create('env-kill', limitsFor(128));
    writeFileSync(join(group.path, 'cgroup.kill'), '');
    const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
    children.push(child);
    await group.join(child.pid as number);
    const exited = once(child, 'exit');
    const killing = group.killAll();
    const [, signal] = await exited;
    // The kernel takes a dead process off cgroup.procs; the test does it for the plain file.
    writeFileSync(group.procsFiles[0] as string, '');
    await killing;
    expect(signal).toBe('SIGKILL');
    expect(read(join(group.path, 'cgroup.kill'))).toBe('1');
  });

  it('removes a group, and removeStale every group an earlier server left', async () => {
    const { support, parentDir } = await v2Support(RECENT_KERNEL);
    const group = await support.create('env-gone', limitsFor(128));
    dropInterfaceFiles(group);
    await group.remove();
    expect(existsSync(group.path)).toBe(false);
    await group.remove();

    mkdirSync(join(parentDir, 'left-1'));
    mkdirSync(join(parentDir, 'left-2'));
    expect(await support.removeStale()).toBe(2);
    expect(readdirSync(parentDir, { withFileTypes: true }).filter((e) => e.isDirectory())).toEqual([]);
  });

  it('refuses a name already taken and keeps the group that has it', async () => {
    const { support } = await v2Support(RECENT_KERNEL);
    const group = await support.create('env-twice', limitsFor(128));
    await expect(support.create('env-twice', limitsFor(128))).rejects.toThrow(`Cannot create cgroup ${group.path}: EEXIST (a group of that name already exists)`);
    expect(existsSync(join(group.path, 'memory.max'))).toBe(true);
  });
});
