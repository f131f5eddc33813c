/**
 * The limits a sandbox's cgroup puts on an environment, read back from the host's cgroup files
 * while a real server runs: CPU in proportion to MemorySize after Init (1,769 MB = one vCPU), or
 * none when `environmentCpu` is `unlimited`; MemorySize of memory; a pids limit. And the sandbox
 * as its function sees it: the sandbox user without privileges, a /tmp of EphemeralStorage, its
 * code and the system read-only.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cgroupDir, cpuQuotaUs } from '../helpers/cgroup-of.js';
import { environmentProcesses } from '../helpers/host-processes.js';
import { decode, deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';

async function runtimePid(h: Harness, name: string): Promise<number> {
  const out = await h.client.send(new InvokeCommand({ FunctionName: name, Payload: '{}' }));
  const { stream } = decode(out.Payload) as { stream: string };
  // The runtime is the newest process of the environment (bubblewrap and its init come first).
  const pids = environmentProcesses(stream).sort((a, b) => a - b);
  const pid = pids[pids.length - 1];
  if (pid === undefined) throw new Error(`no process of ${stream}`);
  return pid;
}

describe('with environmentCpu proportional (the default)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startLaminar({ environmentCpu: 'proportional' });
    if (!h.laminar.isolation.limits.startsWith('cgroup')) throw new Error(`no cgroups here: ${h.laminar.isolation.warnings.join('; ')}`);
  });
  afterAll(async () => h.close());

  it('gives each environment CPU in proportion to its memory after Init, MemorySize of memory and the pids limit', async () => {
    const small = await runtimePid(h, await deployFixture(h.client, 'pid', { MemorySize: 128 }));
    const large = await runtimePid(h, await deployFixture(h.client, 'pid', { MemorySize: 3538 }));
    expect(cpuQuotaUs(small)).toBe(Math.round((128 * 100_000) / 1769));
    expect(cpuQuotaUs(large)).toBe(200_000);
    const memory = cgroupDir(small, 'memory') as string;
    const limit = existsSync(join(memory, 'memory.limit_in_bytes')) ? 'memory.limit_in_bytes' : 'memory.max';
    expect(Number(readFileSync(join(memory, limit), 'utf8'))).toBe(128 * 1024 * 1024);
    const pids = cgroupDir(small, 'pids') as string;
    expect(readFileSync(join(pids, 'pids.max'), 'utf8').trim()).toBe('1024');
  });
});

describe('with environmentCpu unlimited', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startLaminar({ environmentCpu: 'unlimited', environmentPidsMax: 64 });
  });
  afterAll(async () => h.close());

  it('sets no CPU quota, and the configured pids limit', async () => {
    const pid = await runtimePid(h, await deployFixture(h.client, 'pid', { MemorySize: 128 }));
    expect(cpuQuotaUs(pid)).toBeUndefined();
    expect(readFileSync(join(cgroupDir(pid, 'pids') as string, 'pids.max'), 'utf8').trim()).toBe('64');
  });
});

describe('the sandbox from inside', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startLaminar();
  });
  afterAll(async () => h.close());

  it('runs as uid 993 with no capabilities, no_new_privs and a seccomp filter; /tmp is EphemeralStorage; /var/task and /usr are read-only', async () => {
    const name = await deployFixture(h.client, 'sandbox-view', { EphemeralStorage: { Size: 1024 } });
    const out = await h.client.send(new InvokeCommand({ FunctionName: name, Payload: '{}' }));
    const view = decode(out.Payload) as Record<string, unknown>;
    expect(view).toMatchObject({ uid: '993\t993\t993\t993', noNewPrivs: '1', capEff: '0000000000000000', capBnd: '0000000000000000', seccomp: '2' });
    expect(view.tmpBytes).toBe(1024 * 1024 * 1024);
    expect(view.task).toContain('ro');
    expect(view.usr).toContain('ro');
    expect(view.tmpMount).toContain('rw');
  });
});
