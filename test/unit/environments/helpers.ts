/** Shared setup for the environment tests: fixture specs, requests, and cleanup of every env made. */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EnvironmentSpec, InvokeRequest } from '../../../src/environments/environment.js';
import {
  defaultNodeProcessBootstrapPath,
  NodeProcessEnvironment,
} from '../../../src/environments/process/node/node-process-environment.js';
import {
  defaultBootstrapPath,
  ThreadEnvironment,
  type ThreadEnvironmentOptions,
} from '../../../src/environments/thread/thread-environment.js';

/** The two kinds of environment that run Laminar's Node.js runtime. */
export type NodeKind = 'thread' | 'process';
export const NODE_KINDS: NodeKind[] = ['thread', 'process'];

export type NodeEnvironment = ThreadEnvironment | NodeProcessEnvironment;

/** The compiled runtime bootstrap a kind runs (named in a missing module's "Require stack"). */
export function bootstrapPathOf(kind: NodeKind): string {
  return kind === 'thread' ? defaultBootstrapPath() : defaultNodeProcessBootstrapPath();
}

/** Threads or processes of the environment still running. */
export function liveUnits(env: NodeEnvironment): number {
  return env instanceof ThreadEnvironment ? env.threadCount : env.processCount;
}

export const FIXTURES = fileURLToPath(new URL('../../fixtures/functions/', import.meta.url));

export function fixtureSpec(name: string, overrides: Partial<EnvironmentSpec> = {}): EnvironmentSpec {
  return {
    functionName: name,
    version: '$LATEST',
    runtime: 'nodejs20.x',
    handler: 'index.handler',
    codeDir: join(FIXTURES, name),
    memoryMb: 128,
    timeoutSeconds: 3,
    variables: {},
    initializationType: 'on-demand',
    region: 'eu-west-1',
    accountId: '123456789012',
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: '2026/01/01/[$LATEST]0123456789abcdef0123456789abcdef',
    tmpDir: join(tmpdir(), `laminar-env-test-${randomUUID()}`),
    layerDirs: [],
    ...overrides,
  };
}

export function request(payload: unknown = {}, overrides: Partial<InvokeRequest> = {}, timeoutSeconds = 3): InvokeRequest {
  return {
    requestId: randomUUID(),
    payload: Buffer.from(JSON.stringify(payload)),
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fixture',
    deadlineMs: Date.now() + timeoutSeconds * 1000,
    ...overrides,
  };
}

/** Creates environments of one kind and remembers them, so afterEach can destroy every one. */
export class EnvTracker<E extends NodeEnvironment = ThreadEnvironment> {
  private readonly made: NodeEnvironment[] = [];

  constructor(readonly kind: NodeKind = 'thread') {}

  create(name: string, overrides: Partial<EnvironmentSpec> = {}, options: ThreadEnvironmentOptions = {}): E {
    const bootstrap = bootstrapPathOf(this.kind);
    if (!existsSync(bootstrap)) {
      throw new Error(`${bootstrap} is missing: run \`npx tsc -p tsconfig.json\` before these tests`);
    }
    const id = `test-${name}-${this.made.length}`;
    const spec = fixtureSpec(name, { ...overrides, isolation: this.kind });
    const env = this.kind === 'thread' ? new ThreadEnvironment(id, spec, options) : new NodeProcessEnvironment(id, spec, options);
    this.made.push(env);
    return env as E;
  }

  async destroyAll(): Promise<void> {
    await Promise.all(this.made.splice(0).map((env) => env.destroy()));
  }
}

/** Resolves once `check` holds, or rejects after `ms`. */
export async function eventually(check: () => boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
