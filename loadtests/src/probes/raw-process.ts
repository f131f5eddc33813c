/**
 * The cold-start floor of a process environment, in its own process like the server: on each
 * request from the parent (IPC), spawn a runtime that answers one invocation from a minimal
 * Runtime API served here, and report how long that took. Unsandboxed, the runtime is started
 * directly; sandboxed, it runs inside the same bubblewrap view Laminar builds for an environment
 * (Laminar's own `bwrapArgs`, system view and seccomp filter, loaded from the build it measures),
 * so the floor is the sandbox without Laminar: no scheduler, no environment bookkeeping, no
 * invoke API, and no cgroup (creating and joining one is part of Laminar's work).
 *
 * Started as `node raw-process.js <Laminar's dist folder>`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { randomUUID } from 'node:crypto';
import { treeRssMb } from '../harness/rss.js';
import { SandboxLauncher } from './sandbox-launch.js';

export interface RawProcessRequest {
  /** The function's folder (a folder of loadtests/functions). */
  fixtureDir: string;
  /** `node`: floor-runtime with the folder's index.mjs; `bootstrap`: the folder's own executable bootstrap. */
  runtime: 'node' | 'bootstrap';
  sandboxed: boolean;
  /**
   * For `node`: the function's MemorySize, to start node with the heap limit Laminar's runtime
   * (like Lambda's bootstrap) derives from it. Any V8 flag makes V8 reject Node's built-in code
   * cache, which costs a cold start tens of milliseconds; a floor without the flag would count
   * that against the sandbox although both kinds of process environment, and Lambda, pay it.
   */
  memoryMb?: number;
}

export interface RawProcessColdStart {
  /** spawn → the runtime asks for its first invocation (its Init is over). */
  nextMs: number;
  /** spawn → the invocation's response has arrived. */
  responseMs: number;
  /** Resident memory of the runtime's process tree (bubblewrap's own processes included) at its response. */
  rssMb: number;
}

const API = '/2018-06-01/runtime/invocation';
const TIMEOUT_MS = 10_000;
const FLOOR_RUNTIME = fileURLToPath(new URL('./floor-runtime.js', import.meta.url));

const laminarDist = process.argv[2] ?? '';
// 0755: the sandbox user must be able to read the function's folder and the stand-in files.
const workDir = mkdtempSync(join(tmpdir(), 'laminar-floor-'));
chmodSync(workDir, 0o755);
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));
// Stopped by its parent (SIGTERM) or orphaned: exit normally, so that the folder above goes too.
process.once('SIGTERM', () => process.exit(0));
process.once('disconnect', () => process.exit(0));

let sandbox: Promise<SandboxLauncher> | undefined;

/** Built once, as Laminar builds its system view once at start. */
function openSandbox(): Promise<SandboxLauncher> {
  sandbox ??= SandboxLauncher.open(laminarDist, join(workDir, 'support'));
  return sandbox;
}

const codeDirs = new Map<string, string>();

/** A copy of the function's folder, with the floor runtime beside a Node.js handler. */
function codeDirOf(req: RawProcessRequest): string {
  const key = `${req.runtime}:${req.fixtureDir}`;
  let dir = codeDirs.get(key);
  if (dir === undefined) {
    dir = join(workDir, `code-${codeDirs.size}`);
    cpSync(req.fixtureDir, dir, { recursive: true });
    chmodSync(dir, 0o755);
    if (req.runtime === 'node') copyFileSync(FLOOR_RUNTIME, join(dir, 'floor-runtime.mjs'));
    codeDirs.set(key, dir);
  }
  return dir;
}

interface Pending {
  requestId: string;
  t0: number;
  child: ChildProcess;
  nextMs?: number;
  finish(outcome: { responseMs: number; rssMb: number } | Error): void;
}

let current: Pending | undefined;

function serve(req: IncomingMessage, res: ServerResponse): void {
  const p = current;
  const url = req.url ?? '';
  if (req.method === 'GET' && url === `${API}/next`) {
    // A runtime that loops asks again after its response: that request waits until it is killed.
    if (p === undefined || p.nextMs !== undefined) return;
    p.nextMs = performance.now() - p.t0;
    res.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': p.requestId,
      'lambda-runtime-deadline-ms': String(Date.now() + TIMEOUT_MS),
      'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:000000000000:function:floor',
    });
    res.end('{}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (p !== undefined && req.method === 'POST' && url === `${API}/${p.requestId}/response`) {
      const responseMs = performance.now() - p.t0;
      // Read while the runtime still runs, before it is told the response was taken.
      const rssMb = p.child.pid === undefined ? Number.NaN : (treeRssMb(p.child.pid) ?? Number.NaN);
      p.finish({ responseMs, rssMb });
    } else {
      p?.finish(new Error(`runtime called ${req.method} ${url}: ${Buffer.concat(chunks).toString('utf8')}`));
    }
    res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
  });
}

const server = createServer(serve);
server.listen(0, '127.0.0.1');
await new Promise((r) => server.once('listening', r));
const apiAddress = `127.0.0.1:${(server.address() as AddressInfo).port}`;

interface Command {
  file: string;
  args: string[];
  cwd: string;
  taskRoot: string;
  /** A descriptor for the child's fd 3 (the seccomp program), closed once the child has it. */
  fd3?: number;
}

type RuntimeFlags = (memoryMb: number) => string[];
let runtimeFlags: Promise<RuntimeFlags | undefined> | undefined;

/**
 * node's arguments before the script: those Laminar's runtime starts with for req.memoryMb (its
 * heap limit and V8 settings), from the build under test; a build without `nodeRuntimeFlags`
 * passed the heap limit alone.
 */
async function nodeFlags(req: RawProcessRequest): Promise<string[]> {
  if (req.memoryMb === undefined) return [];
  const memoryMb = req.memoryMb;
  runtimeFlags ??= import(pathToFileURL(join(laminarDist, 'environments', 'node', 'heap-limits.js')).href).then(
    (m: { nodeRuntimeFlags?: RuntimeFlags; heapLimits?: (memoryMb: number) => { maxOldGenerationSizeMb: number } }) => {
      if (m.nodeRuntimeFlags) return m.nodeRuntimeFlags;
      const limits = m.heapLimits;
      return limits ? (mb: number) => [`--max-old-space-size=${limits(mb).maxOldGenerationSizeMb}`] : undefined;
    },
    () => undefined,
  );
  const flags = await runtimeFlags;
  return flags === undefined ? [] : flags(memoryMb);
}

async function commandOf(req: RawProcessRequest): Promise<Command> {
  const codeDir = codeDirOf(req);
  const flags = req.runtime === 'node' ? await nodeFlags(req) : [];
  if (!req.sandboxed) {
    const direct = req.runtime === 'node' ? { file: process.execPath, args: [...flags, join(codeDir, 'floor-runtime.mjs')] } : { file: join(codeDir, 'bootstrap'), args: [] };
    return { ...direct, cwd: codeDir, taskRoot: codeDir };
  }
  const sb = await openSandbox();
  const inside = req.runtime === 'node' ? { file: sb.nodeInside, args: [...flags, join(sb.taskRoot, 'floor-runtime.mjs')] } : { file: join(sb.taskRoot, 'bootstrap'), args: [] };
  const cmd = sb.command(codeDir, inside.file, inside.args, { node: req.runtime === 'node', seccompFdIndex: 3 });
  return { file: cmd.file, args: cmd.args, cwd: '/', taskRoot: cmd.taskRoot, ...(cmd.seccompFd === undefined ? {} : { fd3: cmd.seccompFd }) };
}

async function measure(req: RawProcessRequest): Promise<RawProcessColdStart> {
  const cmd = await commandOf(req);
  const env = { AWS_LAMBDA_RUNTIME_API: apiAddress, LAMBDA_TASK_ROOT: cmd.taskRoot, PATH: '/usr/local/bin:/usr/bin/:/bin', LANG: 'en_US.UTF-8', TZ: ':UTC' };
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // Its own process group, as Laminar's environments, so that one kill ends all of it.
    let child: ChildProcess;
    try {
      child = spawn(cmd.file, cmd.args, { cwd: cmd.cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe', ...(cmd.fd3 === undefined ? [] : [cmd.fd3])] });
    } finally {
      if (cmd.fd3 !== undefined) closeSync(cmd.fd3);
    }
    let output = '';
    const keep = (c: Buffer) => (output = (output + c.toString('utf8')).slice(-4096));
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    const timer = setTimeout(() => pending.finish(new Error(`no response within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    const pending: Pending = {
      requestId: randomUUID(),
      t0,
      child,
      finish: (outcome) => {
        if (current !== pending) return;
        current = undefined;
        clearTimeout(timer);
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
        // The next measurement starts with nothing of this one left running.
        void exited.then(() => {
          if (outcome instanceof Error) reject(new Error(`${outcome.message}\n${output}`));
          else resolve({ nextMs: pending.nextMs ?? Number.NaN, ...outcome });
        });
      },
    };
    current = pending;
    child.once('error', (err) => pending.finish(err));
    child.once('exit', (code, signal) => pending.finish(new Error(`runtime exited (code ${code}, signal ${signal}) before its response`)));
  });
}

process.on('message', (req: RawProcessRequest) => {
  measure(req).then(
    (result) => process.send?.({ ok: true, result }),
    (err: unknown) => process.send?.({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.send?.({ ready: true });
