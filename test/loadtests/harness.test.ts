/** The load tests' pure helpers: statistics, /metrics parsing, log tails, profile summaries, goals. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { meterCpu, sampleCpu } from '../../loadtests/src/harness/cpu.js';
import { parseLogTail } from '../../loadtests/src/harness/invoke.js';
import { counterRate, histogramQuantile, parseProm, promValue } from '../../loadtests/src/harness/prom.js';
import { median, ratio, stat } from '../../loadtests/src/harness/stats.js';
import { categorize, summarizeProfile, type CpuProfile } from '../../loadtests/src/profile/cpuprofile.js';
import { parsePerfScript, summarizeSamples } from '../../loadtests/src/profile/perf.js';
import { weightedPicker } from '../../loadtests/src/scenarios/mixed.js';
import { evaluateTargets } from '../../loadtests/src/targets.js';

describe('statistics', () => {
  it('takes medians, quantiles and spreads of repetitions', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(stat([5, 1, 3])).toEqual({ median: 3, min: 1, max: 5, runs: [5, 1, 3] });
    expect(ratio(1, 0)).toBeUndefined();
    expect(ratio(3, 2)).toBe(1.5);
  });
});

describe('/metrics parsing', () => {
  const text = [
    '# TYPE laminar_invocations_total counter',
    'laminar_invocations_total{function="a",qualifier="$LATEST"} 3',
    'laminar_invocations_total{function="b",qualifier="$LATEST"} 4',
    'laminar_async_event_age_seconds_bucket{function="a",le="0.1"} 50',
    'laminar_async_event_age_seconds_bucket{function="a",le="1"} 100',
    'laminar_async_event_age_seconds_bucket{function="a",le="+Inf"} 100',
  ].join('\n');
  const samples = parseProm(text);

  it('sums series by labels and tells an absent metric from a zero', () => {
    expect(promValue(samples, 'laminar_invocations_total')).toBe(7);
    expect(promValue(samples, 'laminar_invocations_total', { function: 'b' })).toBe(4);
    expect(promValue(samples, 'laminar_throttles_total')).toBeUndefined();
  });

  it('interpolates histogram quantiles like histogram_quantile()', () => {
    expect(histogramQuantile(samples, 'laminar_async_event_age_seconds', 0.5)).toBeCloseTo(0.1);
    expect(histogramQuantile(samples, 'laminar_async_event_age_seconds', 0.75)).toBeCloseTo(0.55);
  });

  it('turns a counter into a rate', () => {
    expect(counterRate([{ t: 0, value: 0 }, { t: 0.5, value: 10 }, { t: 1, value: 30 }])).toEqual([{ t: 0.5, value: 20 }, { t: 1, value: 40 }]);
  });
});

describe('log tails', () => {
  it('reads Init Duration and Duration from the REPORT line', () => {
    const log = 'START RequestId: x\nEND RequestId: x\nREPORT RequestId: x\tDuration: 1.52 ms\tBilled Duration: 2 ms\tInit Duration: 31.40 ms\t\n';
    expect(parseLogTail(Buffer.from(log).toString('base64'))).toEqual({ initDurationMs: 31.4, durationMs: 1.52 });
    expect(parseLogTail(null)).toEqual({});
  });
});

describe('CPU profile summary', () => {
  const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber, columnNumber: 0 });
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 4] },
      { id: 2, callFrame: frame('route', 'file:///repo/dist/api/routes/invoke.js', 10), children: [3] },
      { id: 3, callFrame: frame('postTask', 'file:///repo/node_modules/piscina/dist/worker_pool/index.js', 115) },
      { id: 4, callFrame: frame('(idle)') },
    ],
    // Samples at t = 1000 + 100, 200, ... µs: route, postTask, postTask, idle, route (outside the window)
    samples: [2, 3, 3, 4, 2],
    timeDeltas: [100, 100, 100, 100, 1000],
    startTime: 1000,
    endTime: 3000,
  };

  it('splits time by category and function, within a window, idle excluded', () => {
    const s = summarizeProfile(profile, { title: 't', repoDir: '/repo', window: { startUs: 1000, endUs: 1500 } });
    expect(s.sampledMs).toBeCloseTo(0.4);
    expect(s.busyMs).toBeCloseTo(0.3);
    expect(s.byCategory.map((c) => [c.category, c.selfPct])).toEqual([
      ['piscina', 2 / 3],
      ['laminar', 1 / 3],
    ]);
    expect(s.laminarSelf[0]).toMatchObject({ functionName: 'route', location: 'dist/api/routes/invoke.js:11' });
    // Inclusive: the route is on the stack of every busy sample.
    expect(s.laminarTotal[0]?.totalPct).toBeCloseTo(1);
  });

  it('names categories by package, Node internals and V8', () => {
    expect(categorize(frame('x', 'node:internal/streams'), '/repo')).toBe('Node internals');
    expect(categorize(frame('x', 'file:///repo/node_modules/@fastify/ajv/index.js'), '/repo')).toBe('@fastify/ajv');
    expect(categorize(frame('(garbage collector)'), '/repo')).toBe('GC');
    expect(categorize(frame('writev'), '/repo')).toBe('V8 builtins');
  });
});

describe('perf summary', () => {
  // `perf script -F tid,ip,sym,dso`: a header line per sample, then its frames, leaf first.
  const sample = (tid: number, ...frames: string[]) => `${tid} \n${frames.map((f, i) => `\t${(0x1000 + i).toString(16)} ${f}`).join('\n')}\n`;
  const script = [
    // The main thread: a syscall from JavaScript, and JavaScript itself.
    sample(1, '__GI___writev (/usr/lib/libc.so.6)', 'JS:*writevGeneric node:internal/stream_base_commons (/tmp/perf-1.map)', 'node::Start (/usr/bin/node)'),
    sample(1, 'pvm_irq_enable ([kernel.kallsyms])', 'do_syscall_64 ([kernel.kallsyms])', 'read (/usr/lib/libc.so.6)', 'uv__read (/usr/bin/node)', 'node::Start (/usr/bin/node)'),
    // An environment thread: a page fault on allocation, a scavenge, and a stack cut short at a futex.
    sample(2, 'clear_page_erms ([kernel.kallsyms])', 'asm_exc_page_fault ([kernel.kallsyms])', 'Builtins_FastNewClosure (/usr/bin/node)', 'node::worker::Worker::Run (/usr/bin/node)'),
    sample(2, 'v8::internal::Scavenger::ScavengeObject (/usr/bin/node)', 'v8::internal::Heap::CollectGarbage (/usr/bin/node)', 'Builtins_LoadIC (/usr/bin/node)', 'node::worker::Worker::Run (/usr/bin/node)'),
    sample(2, '__futex_abstimed_wait_common (/usr/lib/libc.so.6)'),
    // A V8 helper, a libuv pool thread, and a thread seen only cut short.
    sample(3, 'v8::internal::ConcurrentMarking::RunMajor (/usr/bin/node)', 'node::(anonymous namespace)::PlatformWorkerThread (/usr/bin/node)'),
    sample(5, 'uv__fs_work (/usr/bin/node)', 'uv__work_submit (/usr/bin/node)', 'worker (/usr/bin/node)', 'start_thread (/usr/lib/libc.so.6)'),
    sample(4, 'pthread_cond_wait (/usr/lib/libc.so.6)'),
  ].join('\n');

  it('reads the thread and the frames of each sample, kernel frames marked', () => {
    const samples = parsePerfScript(script);
    expect(samples).toHaveLength(8);
    expect(samples[1]).toEqual({ tid: 1, frames: ['[k] pvm_irq_enable', '[k] do_syscall_64', 'read', 'uv__read', 'node::Start'] });
  });

  it('divides CPU time by thread group and kind of work per request', () => {
    // 8 samples of 250 µs over 10 requests: 25 µs per sample per request.
    const s = summarizeSamples(parsePerfScript(script), 10);
    expect(s.byGroup).toEqual({ main: 50, environments: 75, 'v8 helpers': 25, 'libuv pool': 25, other: 25 });
    expect(s.totalUs).toBe(200);
    expect(s.byWork.main).toEqual({ native: 25, 'syscalls and kernel': 25 });
    expect(s.byWork.environments).toEqual({ 'page faults': 25, 'garbage collection': 25, native: 25 });
    // Kernel time shows on the call that entered the kernel.
    expect(s.topSelf.main?.map((e) => e.symbol).sort()).toEqual(['__GI___writev', 'read']);
  });
});

describe('goals', () => {
  it('states met, missed (by how much) and not measured', () => {
    const verdicts = evaluateTargets({ 'warm.c100.rps_vs_piscina': 0.68, 'warm.c100.p99_vs_piscina': 1.2 });
    expect(verdicts.find((v) => v.id === 'warm-rps')).toMatchObject({ status: 'missed' });
    expect(verdicts.find((v) => v.id === 'warm-rps')?.margin).toBeCloseTo(-0.2);
    expect(verdicts.find((v) => v.id === 'warm-p99')).toMatchObject({ status: 'met' });
    expect(verdicts.find((v) => v.id === 'warm-p99')?.margin).toBeCloseTo(0.2);
    expect(verdicts.find((v) => v.id === 'cold-start')?.status).toBe('not measured');
  });

  it('holds the sandbox to its own floor and to the unsandboxed process', () => {
    const verdicts = evaluateTargets({ 'kinds.sandboxed.cold_vs_floor': 1.45, 'kinds.sandboxed.c10.rps_vs_unsandboxed': 0.97 });
    expect(verdicts.find((v) => v.id === 'sandbox-cold-start')).toMatchObject({ status: 'missed', goal: 1.3 });
    expect(verdicts.find((v) => v.id === 'sandbox-warm')).toMatchObject({ status: 'met', goal: 0.9 });
  });
});

describe('mixed workload picker', () => {
  it('is deterministic and follows the weights', () => {
    const items = [{ weight: 3 }, { weight: 1 }];
    const a = weightedPicker(items);
    const b = weightedPicker(items);
    const picks = Array.from({ length: 4000 }, () => a());
    expect(Array.from({ length: 4000 }, () => b())).toEqual(picks);
    const share = picks.filter((i) => i === 0).length / picks.length;
    expect(share).toBeGreaterThan(0.7);
    expect(share).toBeLessThan(0.8);
  });
});

describe('CPU per request', () => {
  it('charges a busy child process to the processes under the server, not to its threads', async () => {
    // A child that spins for 300 ms of CPU, then waits to be killed (so it is alive at both samples).
    const child = spawn(process.execPath, ['-e', 'const t = process.cpuUsage(); while (process.cpuUsage(t).user < 300_000); process.stdout.write("done"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const meter = meterCpu(process.pid);
      const before = sampleCpu(process.pid);
      await once(child.stdout, 'data');
      const after = sampleCpu(process.pid);
      expect(after.children - before.children).toBeGreaterThan(250e6);
      expect(after.main).toBeGreaterThan(0);
      const perRequest = meter.stop(1000);
      expect(perRequest?.childrenUs).toBeGreaterThan(250);
      expect(meter.stop(0)).toBeUndefined();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
