/**
 * CPU time by thread and by kind of work, from Linux `perf` sampling the `cpu-clock` event: a
 * sample is taken only while a thread runs, every SAMPLE_PERIOD_NS of its CPU time. V8's own
 * profiler (`--cpu-prof`) samples wall time on the main thread alone: a thread descheduled right
 * after waking another (piscina's `Atomics.notify`, a socket write that wakes the load generator)
 * shows the time it waited as its own, which on two cores shared by a hundred threads is most of
 * what it reports. perf counts only running time, on every thread of the process.
 *
 * The server runs with `--perf-basic-prof`, so perf names JIT-compiled JavaScript. Names of JIT
 * code can be stale (V8 reuses the addresses of collected code), so the summary groups samples by
 * what is certain: the thread, and kernel, garbage collection, page faults and syscalls by their
 * native frames.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

/** CPU time per sample: 250 µs, a few thousand samples in a load run of a few seconds. */
const SAMPLE_PERIOD_NS = 250_000;

/** Whether `perf record` can sample a process here (the tool exists and the kernel allows it). */
export function perfAvailable(): boolean {
  const r = spawnSync('perf', ['record', '-e', 'cpu-clock', '-o', '/dev/null', '--', 'true'], { stdio: 'ignore' });
  return r.status === 0;
}

/** Samples every thread of `pid` until `stop()` resolves; `file` then holds the recording. */
export function recordPerf(pid: number, file: string): { stop: () => Promise<void> } {
  const child: ChildProcess = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-c', String(SAMPLE_PERIOD_NS), '-g', '-p', String(pid), '-o', file], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    stop: async () => {
      child.kill('SIGINT');
      await exited;
    },
  };
}

/** Which part of the server a thread is, from the bottom frames of its stacks. */
export type ThreadGroup = 'main' | 'environments' | 'v8 helpers' | 'libuv pool' | 'other';

/** What a sample was doing, from its frames (first match wins, in this order). */
export type WorkKind = 'page faults' | 'garbage collection' | 'message passing' | 'syscalls and kernel' | 'JavaScript and builtins' | 'native';

/** The mark of a kernel frame in a parsed stack. */
const KERNEL = '[k] ';

/** A frame of JIT code or of V8's builtins; unnamed JIT code ([unknown]) is a process started without --perf-basic-prof. */
const JAVASCRIPT = /^(JS:|Builtins_|\[unknown\])/;

export interface PerfSummary {
  /** Responses served while recording: the divisor of every figure. */
  requests: number;
  /** CPU µs per request, every thread together. */
  totalUs: number;
  /** CPU µs per request, by thread group. */
  byGroup: Partial<Record<ThreadGroup, number>>;
  /** CPU µs per request, by thread group and kind of work. */
  byWork: Partial<Record<ThreadGroup, Partial<Record<WorkKind, number>>>>;
  /** The heaviest leaf functions (self time) of the main thread and of the environments, µs per request. */
  topSelf: Partial<Record<ThreadGroup, { symbol: string; us: number }[]>>;
}

function groupOf(frames: readonly string[]): ThreadGroup {
  const all = frames.join('\n');
  if (all.includes('node::worker::Worker::Run')) return 'environments';
  if (all.includes('PlatformWorkerThread')) return 'v8 helpers';
  if (all.includes('node::Start') || all.includes('__libc_start_call_main')) return 'main';
  // libuv's pool threads start in its `worker` function.
  if (frames.includes('worker')) return 'libuv pool';
  return 'other';
}

/** The frames a sample ran in before reaching JavaScript: where native work was called from. */
function nativePrefix(frames: readonly string[]): string {
  const js = frames.findIndex((f) => JAVASCRIPT.test(f));
  return (js < 0 ? frames : frames.slice(0, js)).join('\n');
}

function workOf(frames: readonly string[]): WorkKind {
  const prefix = nativePrefix(frames);
  if (prefix.includes('exc_page_fault')) return 'page faults';
  if (/Scaveng|MarkCompact|ConcurrentMarking|Heap::CollectGarbage|Sweeper/.test(prefix)) return 'garbage collection';
  if (/ValueSerializer|ValueDeserializer|Message::Deserialize|Message::Serialize/.test(prefix)) return 'message passing';
  if ((frames[0] ?? '').startsWith(KERNEL)) return 'syscalls and kernel';
  if (JAVASCRIPT.test(frames[0] ?? '')) return 'JavaScript and builtins';
  return 'native';
}

/** One sample: the thread it ran on and its stack, leaf first. */
export interface PerfSample {
  tid: number;
  frames: string[];
}

/** Parses `perf script -F tid,ip,sym,dso` output into samples, kernel frames marked. */
export function parsePerfScript(text: string): PerfSample[] {
  const samples: PerfSample[] = [];
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('\t')) {
      // "<ip> <symbol> (<dso>)"
      const m = /^\s*[0-9a-f]+ (.*) \(([^()]*)\)$/.exec(line);
      if (m?.[1] !== undefined) current?.push(m[2]?.includes('kernel') ? KERNEL + m[1] : m[1]);
    } else if (line.trim() !== '') {
      current = [];
      samples.push({ tid: Number.parseInt(line.trim(), 10), frames: current });
    }
  }
  return samples.filter((s) => s.frames.length > 0);
}

export function summarizeSamples(samples: readonly PerfSample[], requests: number, top = 12): PerfSummary {
  const usPerSample = SAMPLE_PERIOD_NS / 1000 / Math.max(1, requests);
  // A stack that perf could not unwind to its thread's start (libc's futex and lock calls keep
  // no frame pointer) belongs to the group its thread's other samples show.
  const groupOfTid = new Map<number, ThreadGroup>();
  for (const { tid, frames } of samples) {
    const group = groupOf(frames);
    if (group !== 'other') groupOfTid.set(tid, group);
  }
  const byGroup: PerfSummary['byGroup'] = {};
  const byWork: PerfSummary['byWork'] = {};
  const self = new Map<ThreadGroup, Map<string, number>>();
  for (const { tid, frames } of samples) {
    const group = groupOfTid.get(tid) ?? 'other';
    const work = workOf(frames);
    byGroup[group] = (byGroup[group] ?? 0) + usPerSample;
    const works = (byWork[group] ??= {});
    works[work] = (works[work] ?? 0) + usPerSample;
    // Kernel time is shown on the call that entered the kernel (a syscall, a faulting allocation).
    const leaf = frames.find((f) => !f.startsWith(KERNEL)) ?? frames[0] ?? '?';
    const symbols = self.get(group) ?? new Map<string, number>();
    self.set(group, symbols);
    symbols.set(leaf, (symbols.get(leaf) ?? 0) + usPerSample);
  }
  const topSelf: PerfSummary['topSelf'] = {};
  for (const group of ['main', 'environments'] as const) {
    const symbols = self.get(group);
    if (symbols) topSelf[group] = [...symbols].sort((a, b) => b[1] - a[1]).slice(0, top).map(([symbol, us]) => ({ symbol, us }));
  }
  return { requests, totalUs: samples.length * usPerSample, byGroup, byWork, topSelf };
}

/** Reads a recording made by recordPerf and divides its CPU time by `requests`. */
export function summarizePerf(file: string, requests: number): PerfSummary {
  const out = spawnSync('perf', ['script', '-i', file, '-F', 'tid,ip,sym,dso'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (out.status !== 0) throw new Error(`perf script failed: ${out.stderr}`);
  return summarizeSamples(parsePerfScript(out.stdout), requests);
}
