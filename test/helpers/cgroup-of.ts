/**
 * Where the host keeps a process's cgroup and its limit files, from /proc/<pid>/cgroup: one line
 * per v1 hierarchy (`4:cpu:/laminar-…/env-…`) or one v2 line (`0::/laminar-…/env-…`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The folder of `controller`'s group of `pid` (v1), else of its v2 group; undefined when unknown. */
export function cgroupDir(pid: number, controller: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [, controllers, path] = line.split(':');
    if (controllers === undefined || path === undefined) continue;
    if (controllers.split(',').includes(controller)) return join('/sys/fs/cgroup', controller, path);
  }
  const v2 = /^0::(.*)$/m.exec(text)?.[1];
  if (v2 !== undefined && existsSync(join('/sys/fs/cgroup', v2, 'cgroup.procs'))) return join('/sys/fs/cgroup', v2);
  return undefined;
}

/** The CFS quota of `pid`'s group in µs per 100 ms period; undefined when unlimited. */
export function cpuQuotaUs(pid: number): number | undefined {
  const dir = cgroupDir(pid, 'cpu');
  if (dir === undefined) throw new Error(`no cpu cgroup for ${pid}`);
  if (existsSync(join(dir, 'cpu.cfs_quota_us'))) {
    const q = Number(readFileSync(join(dir, 'cpu.cfs_quota_us'), 'utf8').trim());
    return q < 0 ? undefined : q;
  }
  const [quota] = readFileSync(join(dir, 'cpu.max'), 'utf8').trim().split(' ');
  return quota === 'max' ? undefined : Number(quota);
}
