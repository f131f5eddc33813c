/**
 * Floor of a process environment with Lambda's semantics: Fastify plus one child process per
 * request in flight, each answering length-prefixed frames on a pipe (Laminar's Node.js runtime
 * also talks over a pipe). `node processes-server.js plain` runs the children directly;
 * `node processes-server.js sandboxed <Laminar's dist>` runs each in the bubblewrap view Laminar
 * builds for an environment (its own modules, no cgroup).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SandboxLauncher } from '../probes/sandbox-launch.js';
import { serveFloor } from './floor-app.js';
import { encodeFrame, eventOf, FrameSplitter, PerRequestPool, type Backend } from './per-request.js';

const CHILD = fileURLToPath(new URL('./pipe-child.js', import.meta.url));
const [mode = 'plain', laminarDist = ''] = process.argv.slice(2);

const workDir = mkdtempSync(join(tmpdir(), 'laminar-floor-processes-'));
// 0755: the sandbox user must be able to read the code folder and the stand-in files.
chmodSync(workDir, 0o755);
const codeDir = join(workDir, 'code');
mkdirSync(codeDir, { mode: 0o755 });
copyFileSync(CHILD, join(codeDir, 'pipe-child.mjs'));
chmodSync(join(codeDir, 'pipe-child.mjs'), 0o644);
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));

const sandbox = mode === 'sandboxed' ? await SandboxLauncher.open(laminarDist, join(workDir, 'support')) : undefined;
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) {
    try {
      if (c.pid !== undefined) process.kill(-c.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

class ProcessBackend implements Backend {
  private pending: ((reply: string) => void) | undefined;

  constructor(private readonly child: ChildProcess) {
    const frames = new FrameSplitter((reply) => {
      const resolve = this.pending;
      this.pending = undefined;
      resolve?.(reply);
    });
    child.stdout?.on('data', (chunk: Buffer) => frames.push(chunk));
  }

  static start(): Promise<ProcessBackend> {
    const env = { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'en_US.UTF-8' };
    let child: ChildProcess;
    if (sandbox === undefined) {
      child = spawn(process.execPath, [join(codeDir, 'pipe-child.mjs')], { env, detached: true, stdio: ['pipe', 'pipe', 'inherit'] });
    } else {
      const cmd = sandbox.command(codeDir, sandbox.nodeInside, [join(sandbox.taskRoot, 'pipe-child.mjs')], { node: true, seccompFdIndex: 3 });
      try {
        child = spawn(cmd.file, cmd.args, { cwd: '/', env, detached: true, stdio: ['pipe', 'pipe', 'inherit', ...(cmd.seccompFd === undefined ? [] : [cmd.seccompFd])] });
      } finally {
        if (cmd.seccompFd !== undefined) closeSync(cmd.seccompFd);
      }
    }
    children.push(child);
    const backend = new ProcessBackend(child);
    // Ready once it has answered one event: a warm backend, not a starting one.
    return backend.call('{}').then(() => backend);
  }

  call(event: string): Promise<string> {
    return new Promise((resolve) => {
      this.pending = resolve;
      this.child.stdin?.write(encodeFrame(event));
    });
  }
}

const pool = new PerRequestPool(() => ProcessBackend.start());
await serveFloor(mode === 'sandboxed' ? 'sandboxed-processes' : 'processes', (body) => pool.run(eventOf(body)), (n) => pool.ensure(n));
