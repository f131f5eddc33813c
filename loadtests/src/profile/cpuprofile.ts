/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self and inclusive time per function,
 * time per category (Laminar's code, each npm package, Node internals, GC), with Laminar's
 * compiled locations mapped back to `src/*.ts` lines through the build's source maps.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap, type SourceMapPayload } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  functionName: string;
  /** `src/api/routes/invoke.ts:85` for Laminar's code, the package or module otherwise. */
  location: string;
  category: string;
  selfMs: number;
  /** Share of busy (non-idle) time. */
  selfPct: number;
  totalMs: number;
  totalPct: number;
}

export interface ProfileSummary {
  title: string;
  /** Sampled wall time and the part that was not idle. */
  sampledMs: number;
  busyMs: number;
  byCategory: { category: string; selfMs: number; selfPct: number }[];
  /** Laminar's own functions by self time, and by inclusive time (where its calls spend). */
  laminarSelf: ProfileEntry[];
  laminarTotal: ProfileEntry[];
  /** Every function by self time. */
  overallSelf: ProfileEntry[];
}

/** Where a frame belongs. `repoDir` tells Laminar's compiled code apart from packages. */
export function categorize(frame: CallFrame, repoDir: string): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)' || functionName === '(root)') return 'V8 / native';
    return 'V8 builtins';
  }
  if (url.startsWith('node:')) return 'Node internals';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (pkg) return pkg[1] as string;
  if (path.startsWith(join(repoDir, 'dist') + '/')) return 'laminar';
  if (path.startsWith(repoDir + '/')) return 'laminar (other)';
  return 'other';
}

/** Maps a frame of Laminar's compiled code to its TypeScript line, when the source map says. */
export type Locator = (frame: CallFrame) => string;

export function sourceMapLocator(repoDir: string): Locator {
  const maps = new Map<string, SourceMap | undefined>();
  const mapFor = (file: string): SourceMap | undefined => {
    if (!maps.has(file)) {
      const mapFile = `${file}.map`;
      let map: SourceMap | undefined;
      if (existsSync(mapFile)) {
        try {
          map = new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')) as SourceMapPayload);
        } catch {
          map = undefined;
        }
      }
      maps.set(file, map);
    }
    return maps.get(file);
  };
  return (frame) => {
    const file = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
    const entry = mapFor(file)?.findEntry(frame.lineNumber, frame.columnNumber) as { originalSource?: string; originalLine?: number } | undefined;
    if (entry?.originalSource !== undefined && entry.originalLine !== undefined) {
      const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : join(file, '..', entry.originalSource);
      return `${relative(repoDir, source)}:${entry.originalLine + 1}`;
    }
    return `${relative(repoDir, file)}:${frame.lineNumber + 1}`;
  };
}

function plainLocation(frame: CallFrame, category: string, repoDir: string): string {
  if (frame.url === '') return '';
  if (category === 'Node internals') return `${frame.url}:${frame.lineNumber + 1}`;
  const path = frame.url.startsWith('file://') ? fileURLToPath(frame.url) : frame.url;
  const tail = /node_modules\/(.*)$/.exec(path);
  return `${tail ? tail[1] : relative(repoDir, path)}:${frame.lineNumber + 1}`;
}

/** A span of CLOCK_MONOTONIC microseconds: V8 profiles and process.hrtime() share that clock on Linux. */
export interface ProfileWindow {
  startUs: number;
  endUs: number;
}

export function hrtimeUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export function summarizeProfile(
  profile: CpuProfile,
  options: { title: string; repoDir: string; locate?: Locator; top?: number; window?: ProfileWindow },
): ProfileSummary {
  const top = options.top ?? 15;
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const keyOf = new Map<number, string>();
  const info = new Map<string, { frame: CallFrame; category: string; self: number; total: number }>();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const key = `${f.functionName}\u0000${f.url}\u0000${f.lineNumber}\u0000${f.columnNumber}`;
    keyOf.set(n.id, key);
    if (!info.has(key)) info.set(key, { frame: f, category: categorize(f, options.repoDir), self: 0, total: 0 });
  }

  let sampledUs = 0;
  let idleUs = 0;
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    // V8 gives the time since the previous sample; it belongs to the sample it precedes.
    const delta = Math.max(0, profile.timeDeltas[i] ?? 0);
    at += profile.timeDeltas[i] ?? 0;
    // Only the measured load: start-up, deploys and pre-warming are not the invoke path.
    if (options.window && (at < options.window.startUs || at > options.window.endUs)) continue;
    sampledUs += delta;
    const leaf = info.get(keyOf.get(id) ?? '');
    if (!leaf) continue;
    leaf.self += delta;
    if (leaf.category === 'idle') idleUs += delta;
    // Inclusive time: each function on the stack once, however often it recurses.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const key = keyOf.get(cur) ?? '';
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = info.get(key);
      if (entry) entry.total += delta;
    }
  }
  const busyUs = Math.max(1, sampledUs - idleUs);
  const entries: ProfileEntry[] = [...info.values()]
    .filter((e) => e.category !== 'idle' && !(e.frame.url === '' && e.frame.functionName === '(root)'))
    .map((e) => ({
      functionName: e.frame.functionName || '(anonymous)',
      location: e.category === 'laminar' && options.locate ? options.locate(e.frame) : plainLocation(e.frame, e.category, options.repoDir),
      category: e.category,
      selfMs: e.self / 1000,
      selfPct: e.self / busyUs,
      totalMs: e.total / 1000,
      totalPct: e.total / busyUs,
    }));

  const categories = new Map<string, number>();
  for (const e of info.values()) if (e.category !== 'idle' && e.self > 0) categories.set(e.category, (categories.get(e.category) ?? 0) + e.self);
  const laminar = entries.filter((e) => e.category === 'laminar');
  return {
    title: options.title,
    sampledMs: sampledUs / 1000,
    busyMs: busyUs / 1000,
    byCategory: [...categories.entries()]
      .map(([category, us]) => ({ category, selfMs: us / 1000, selfPct: us / busyUs }))
      .sort((a, b) => b.selfMs - a.selfMs),
    laminarSelf: [...laminar].sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
    laminarTotal: [...laminar].sort((a, b) => b.totalMs - a.totalMs).slice(0, top),
    overallSelf: [...entries].sort((a, b) => b.selfMs - a.selfMs).slice(0, top),
  };
}
