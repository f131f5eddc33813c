/**
 * The cold-start floors of the kinds scenario, one raw start each: a plain node runtime, and the
 * same runtime in the bubblewrap view built by Laminar's own sandbox modules from the build. The
 * probe reaches those modules through an interface it declares itself, so a changed signature
 * in src/environments/sandbox/ fails here rather than in a load run. Shape only, no timings.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawProcessProbe as Probe } from '../../loadtests/src/harness/raw-probe.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const NOOP = join(ROOT, 'loadtests', 'functions', 'noop');
const bwrapWorks = spawnSync('bwrap', ['--ro-bind', '/', '/', '--unshare-pid', '--proc', '/proc', '/bin/true']).status === 0;

describe('cold-start floors of process environments', () => {
  let probe: Probe;

  beforeAll(async () => {
    // The probe runs as a compiled child, as in a load run.
    execFileSync(process.execPath, [TSC, '-p', join(ROOT, 'loadtests', 'tsconfig.json')], { cwd: ROOT, stdio: 'pipe' });
    const { RawProcessProbe } = await import('../../loadtests/src/harness/raw-probe.js');
    probe = await RawProcessProbe.start();
  }, 120_000);

  afterAll(async () => {
    await probe?.stop();
  });

  it('times a plain node runtime from spawn to its one response', async () => {
    const r = await probe.measure({ fixtureDir: NOOP, runtime: 'node', sandboxed: false });
    expect(r.nextMs).toBeGreaterThan(0);
    expect(r.responseMs).toBeGreaterThanOrEqual(r.nextMs);
    expect(r.rssMb).toBeGreaterThan(5);
  });

  it.skipIf(!bwrapWorks && !process.env.CI)('times the same runtime inside the sandbox Laminar builds', async () => {
    const r = await probe.measure({ fixtureDir: NOOP, runtime: 'node', sandboxed: true });
    expect(r.responseMs).toBeGreaterThanOrEqual(r.nextMs);
    // bubblewrap's own processes are part of the tree measured.
    expect(r.rssMb).toBeGreaterThan(5);
  });

  it('reports a runtime that fails instead of waiting for it', async () => {
    await expect(probe.measure({ fixtureDir: NOOP, runtime: 'bootstrap', sandboxed: false })).rejects.toThrow(/exited|ENOENT|spawn/);
  });
});
