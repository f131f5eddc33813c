/** Shared setup for the environment tests: fixture specs, requests, and cleanup of every env made. */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EnvironmentSpec, InvokeRequest } from '../../../src/environments/environment.js';
import {
  defaultBootstrapPath,
  ThreadEnvironment,
  type ThreadEnvironmentOptions,
} from '../../../src/environments/thread/thread-environment.js';

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

/** Creates environments and remembers them, so afterEach can destroy every one. */
export class EnvTracker {
  private readonly made: ThreadEnvironment[] = [];

  create(name: string, overrides: Partial<EnvironmentSpec> = {}, options: ThreadEnvironmentOptions = {}): ThreadEnvironment {
    if (!existsSync(defaultBootstrapPath())) {
      throw new Error(`${defaultBootstrapPath()} is missing: run \`npx tsc -p tsconfig.json\` before these tests`);
    }
    const env = new ThreadEnvironment(`test-${name}-${this.made.length}`, fixtureSpec(name, overrides), options);
    this.made.push(env);
    return env;
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
