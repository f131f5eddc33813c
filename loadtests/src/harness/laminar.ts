/**
 * A Laminar server in its own process (`node dist/main.js serve`), plus the control-plane calls
 * the scenarios need (deploy through the AWS SDK, as a user would) and a scrape of /metrics.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  CreateAliasCommand,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  waitUntilFunctionActiveV2,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { startNode, type Child } from './processes.js';
import { FUNCTIONS_DIR, REPO_DIR, requireLaminarBuild } from './paths.js';

export interface LaminarStartOptions {
  /** Extra `serve` flags by name without dashes, e.g. { 'host-memory-mb': 1024 }. */
  flags?: Record<string, string | number | boolean>;
  /** Write a V8 CPU profile of the server process into this folder (written at exit). */
  cpuProfDir?: string;
  /** More flags for node itself, before the script (e.g. --perf-basic-prof). */
  nodeArgs?: string[];
  /** Another build's main.js (default: this repo's dist/, or LOADTEST_LAMINAR_MAIN). */
  main?: string;
}

export interface DeployOptions {
  memoryMb?: number;
  timeoutSeconds?: number;
  env?: Record<string, string>;
  /** Default nodejs20.x with handler index.handler. */
  runtime?: string;
  tags?: Record<string, string>;
}

export class LaminarServer {
  readonly lambda: LambdaClient;

  private constructor(
    private readonly child: Child,
    readonly url: string,
    private readonly dataDir: string,
  ) {
    this.lambda = new LambdaClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'loadtest', secretAccessKey: 'loadtest' },
      // A control-plane call that fails should fail the scenario loudly, not be retried.
      maxAttempts: 1,
    });
  }

  static async start(options: LaminarStartOptions = {}): Promise<LaminarServer> {
    const main = options.main ?? requireLaminarBuild();
    const dataDir = mkdtempSync(join(tmpdir(), 'laminar-load-'));
    // Quiet by default: printing function logs or request logs would measure the terminal.
    const flags: Record<string, string | number | boolean> = {
      port: 0,
      'data-dir': dataDir,
      'print-function-logs': false,
      'log-level': 'warn',
      // The scenarios' floors (a piscina dispatch, a raw Worker) are threads, so their functions
      // run in threads unless a scenario says otherwise; kinds tags each function with its kind.
      isolation: 'thread',
      ...options.flags,
    };
    const nodeArgs = [...(options.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir] : []), ...(options.nodeArgs ?? [])];
    const args = [...nodeArgs, main, 'serve', ...Object.entries(flags).flatMap(([k, v]) => [`--${k}`, String(v)])];
    const child = await startNode({
      args,
      readyPattern: /serving the Lambda API on (\S+)/,
      spawnOptions: { cwd: REPO_DIR, env: withoutLaminarEnv(process.env) },
    });
    return new LaminarServer(child, child.ready, dataDir);
  }

  /** The path of an invoke, with an optional qualifier (`name:alias`). */
  static invokePath(functionName: string, qualifier?: string): string {
    const ref = qualifier ? `${functionName}:${qualifier}` : functionName;
    return `/2015-03-31/functions/${encodeURIComponent(ref)}/invocations`;
  }

  /** Creates a function from a folder of loadtests/functions and waits until it is Active. */
  async deploy(name: string, fixture: string, options: DeployOptions = {}): Promise<void> {
    await this.lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Role: 'arn:aws:iam::000000000000:role/loadtest',
        Runtime: (options.runtime ?? 'nodejs20.x') as Runtime,
        Handler: 'index.handler',
        Code: { ZipFile: await zipFixture(fixture) },
        ...(options.memoryMb ? { MemorySize: options.memoryMb } : {}),
        ...(options.timeoutSeconds ? { Timeout: options.timeoutSeconds } : {}),
        ...(options.env ? { Environment: { Variables: options.env } } : {}),
        ...(options.tags ? { Tags: options.tags } : {}),
      }),
    );
    await waitUntilFunctionActiveV2({ client: this.lambda, maxWaitTime: 60, minDelay: 0.05, maxDelay: 0.5 }, { FunctionName: name });
  }

  /** Resolves once this server has function `name`, Active (deployed through another node of its cluster). */
  async untilActive(name: string, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        const c = await this.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
        if (c.State === 'Active') return;
      } catch (err) {
        if ((err as Error).name !== 'ResourceNotFoundException') throw err;
      }
      if (Date.now() > end) throw new Error(`${name} is not Active on ${this.url} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Publishes $LATEST and points `alias` at it; returns the version. */
  async publishAlias(name: string, alias: string): Promise<string> {
    const v = await this.lambda.send(new PublishVersionCommand({ FunctionName: name }));
    const version = v.Version ?? '1';
    await this.lambda.send(new CreateAliasCommand({ FunctionName: name, Name: alias, FunctionVersion: version }));
    return version;
  }

  /** Deletes a function, which also ends its environments. */
  async deleteFunction(name: string): Promise<void> {
    await this.lambda.send(new DeleteFunctionCommand({ FunctionName: name }));
  }

  async reserveConcurrency(name: string, reserved: number): Promise<void> {
    await this.lambda.send(new PutFunctionConcurrencyCommand({ FunctionName: name, ReservedConcurrentExecutions: reserved }));
  }

  async scrape(): Promise<string> {
    const res = await fetch(`${this.url}/metrics`);
    if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
    return res.text();
  }

  /** GET /health: among others, whether process environments are sandboxed here. */
  async health(): Promise<{ sandbox?: { enabled: boolean; description: string; warnings: string[] } }> {
    const res = await fetch(`${this.url}/health`);
    if (!res.ok) throw new Error(`GET /health answered ${res.status}`);
    return (await res.json()) as { sandbox?: { enabled: boolean; description: string; warnings: string[] } };
  }

  stderr(): string {
    return this.child.stderr();
  }

  /** The server's process id (its environments' processes descend from it). */
  get pid(): number | undefined {
    return this.child.process.pid;
  }

  /** SIGTERM (Laminar drains and exits, which also writes a CPU profile), then removes the data dir. */
  async stop(): Promise<void> {
    this.lambda.destroy();
    await this.child.stop(30_000);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The runner's own LAMINAR_* variables must not reconfigure the server under test. */
function withoutLaminarEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('LAMINAR_')));
}

const zips = new Map<string, Promise<Buffer>>();

/** Zips with Laminar's own deterministic packer (from the build), once per fixture. */
function zipFixture(fixture: string): Promise<Buffer> {
  let zip = zips.get(fixture);
  if (!zip) {
    const packer = pathToFileURL(join(REPO_DIR, 'dist', 'cli', 'package-folder.js')).href;
    zip = (import(packer) as Promise<{ zipFolder(dir: string): Promise<Buffer> }>).then((m) => m.zipFolder(join(FUNCTIONS_DIR, fixture)));
    zips.set(fixture, zip);
  }
  return zip;
}

/** Runs `fn` against a fresh server and always stops it (a failed scenario must not leak a server). */
export async function withLaminar<T>(options: LaminarStartOptions, fn: (server: LaminarServer) => Promise<T>): Promise<T> {
  const server = await LaminarServer.start(options);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}
