/**
 * Floor of a custom runtime with Lambda's semantics: Fastify plus one runtime per request in
 * flight, each the function's own `bootstrap` looping on a Runtime API of its own (a bare
 * `node:http` server: GET next, POST response), in the bubblewrap view Laminar builds.
 * `node runtime-api-server.js <Laminar's dist> <function folder with bootstrap>`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SandboxLauncher } from '../probes/sandbox-launch.js';
import { serveFloor } from './floor-app.js';
import { eventOf, PerRequestPool, type Backend } from './per-request.js';

const [laminarDist = '', functionDir = ''] = process.argv.slice(2);
const API = '/2018-06-01/runtime/invocation';

const workDir = mkdtempSync(join(tmpdir(), 'laminar-floor-runtime-api-'));
chmodSync(workDir, 0o755);
const codeDir = join(workDir, 'code');
cpSync(functionDir, codeDir, { recursive: true });
chmodSync(codeDir, 0o755);
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));
const sandbox = await SandboxLauncher.open(laminarDist, join(workDir, 'support'));
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

class RuntimeBackend implements Backend {
  /** The runtime's GET next, waiting for an event. */
  private next: ServerResponse | undefined;
  private queued: string | undefined;
  private pending: ((reply: string) => void) | undefined;
  private seq = 0;

  private readonly server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === `${API}/next`) {
      this.next = res;
      if (this.queued !== undefined) this.send(this.queued);
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"OK"}');
      const resolve = this.pending;
      this.pending = undefined;
      resolve?.(Buffer.concat(chunks).toString('utf8'));
    });
  });

  static async start(): Promise<RuntimeBackend> {
    const backend = new RuntimeBackend();
    await new Promise<void>((r) => backend.server.listen(0, '127.0.0.1', r));
    const { port } = backend.server.address() as AddressInfo;
    const cmd = sandbox.command(codeDir, join(sandbox.taskRoot, 'bootstrap'), [], { node: false, seccompFdIndex: 3 });
    const env = { AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${port}`, LAMBDA_TASK_ROOT: cmd.taskRoot, PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'en_US.UTF-8' };
    try {
      children.push(spawn(cmd.file, cmd.args, { cwd: '/', env, detached: true, stdio: ['ignore', 'ignore', 'inherit', ...(cmd.seccompFd === undefined ? [] : [cmd.seccompFd])] }));
    } finally {
      if (cmd.seccompFd !== undefined) closeSync(cmd.seccompFd);
    }
    await backend.call('{}');
    return backend;
  }

  call(event: string): Promise<string> {
    return new Promise((resolve) => {
      this.pending = resolve;
      if (this.next !== undefined) this.send(event);
      else this.queued = event;
    });
  }

  private send(event: string): void {
    const res = this.next as ServerResponse;
    this.next = undefined;
    this.queued = undefined;
    res.writeHead(200, {
      'content-type': 'application/json',
      'lambda-runtime-aws-request-id': `floor-${++this.seq}`,
      'lambda-runtime-deadline-ms': String(Date.now() + 60_000),
      'lambda-runtime-invoked-function-arn': 'arn:aws:lambda:us-east-1:000000000000:function:floor',
    });
    res.end(event);
  }
}

const pool = new PerRequestPool(() => RuntimeBackend.start());
await serveFloor('runtime-api', (body) => pool.run(eventOf(body)), (n) => pool.ensure(n));
