/**
 * The load-test command itself, end to end but tiny: compile the load tests, run the `warm`
 * scenario for ~2 s with 4 connections and one repetition against a real Laminar server (and the
 * floor servers), and check the reports it writes. Structure and success only: timings on a
 * shared CI machine prove nothing, so there are no thresholds here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResults } from '../../loadtests/src/runner.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const CLI = join(ROOT, 'loadtests', 'dist', 'cli.js');

describe('npm run loadtest -- --scenario warm (smoke)', () => {
  let out: string;
  let results: RunResults;
  let stdout: string;

  beforeAll(() => {
    out = mkdtempSync(join(tmpdir(), 'laminar-loadtest-smoke-'));
    // The same compile step `npm run loadtest` runs; a type error in loadtests/ fails here.
    execFileSync(process.execPath, [TSC, '-p', join(ROOT, 'loadtests', 'tsconfig.json')], { cwd: ROOT, stdio: 'pipe' });
    stdout = execFileSync(
      process.execPath,
      [CLI, 'run', '--scenario', 'warm', '--duration', '2', '--warmup', '0.5', '--reps', '1', '--connections', '4', '--out', out],
      { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 90_000 },
    );
    results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as RunResults;
  }, 120_000);

  afterAll(() => {
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it('writes the JSON, text and HTML reports', () => {
    for (const file of ['latest.json', 'latest.txt', 'report.html']) expect(existsSync(join(out, file)), file).toBe(true);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(stdout).toContain('warm');
    expect(stdout).toContain('Fastify + piscina');
  });

  it('records the run settings and the one scenario', () => {
    expect(results.schema).toBe(1);
    expect(results.settings).toMatchObject({ durationSeconds: 2, reps: 1, connections: 4, scenarios: ['warm'] });
    expect(Object.keys(results.scenarios)).toEqual(['warm']);
    expect(results.scenarios.warm?.status).toBe('ok');
  });

  it('served every request of the measured run, and measured both floors next to it', () => {
    const warm = results.scenarios.warm;
    const figure = warm?.loads['@4'];
    expect(figure).toBeDefined();
    expect(figure?.connections).toBe(4);
    expect(figure?.ok).toBeGreaterThan(0);
    expect(figure?.other).toBe(0);
    expect(figure?.errors).toBe(0);
    expect(figure?.timeouts).toBe(0);
    expect(figure?.rps.runs).toHaveLength(1);
    for (const p of ['p50', 'p90', 'p99', 'max'] as const) expect(figure?.[p].median).toBeGreaterThan(0);
    expect(Object.keys(warm?.floors ?? {}).sort()).toEqual(['Fastify + piscina @4', 'Fastify echo @4']);
  });

  it('states every figure as a ratio to its floors', () => {
    for (const key of ['warm.c4.rps_vs_piscina', 'warm.c4.p99_vs_piscina', 'warm.c4.rps_vs_echo', 'warm.c4.p99_vs_echo']) {
      expect(results.ratios[key], key).toBeGreaterThan(0);
    }
    // The goals are stated for 100 connections; at 4 they are reported as not measured.
    expect(results.targets.find((t) => t.id === 'warm-rps')?.status).toBe('not measured');
  });
});
