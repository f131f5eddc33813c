/**
 * What the thread-environment probes share: a Laminar thread environment of the no-op fixture
 * built from a given `dist/` (loaded at run time, so two builds can be compared in one run), and
 * each thread's CPU time from /proc/self/task/<tid>/schedstat.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FUNCTIONS_DIR } from '../harness/paths.js';

/** What the probes use of a thread environment. */
interface ThreadEnvironmentLike {
  init(): Promise<{ ok: boolean }>;
  invoke(request: { requestId: string; payload: Buffer; invokedFunctionArn: string; deadlineMs: number }): Promise<{ status: string }>;
  destroy(): Promise<void>;
}

/** A started backend: one call runs one no-op invocation to completion. */
export interface ProbeBackend {
  call(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts (and initialises) one thread environment of the no-op from the build in `dist`. */
export async function startNoopEnvironment(dist: string, options: { memoryMb: number; id?: string }): Promise<ProbeBackend> {
  const mod = (await import(pathToFileURL(join(dist, 'environments', 'thread', 'thread-environment.js')).href)) as {
    ThreadEnvironment: new (id: string, spec: object, options: object) => ThreadEnvironmentLike;
  };
  const id = options.id ?? 'probe';
  const spec = {
    functionName: 'noop',
    version: '$LATEST',
    runtime: 'nodejs20.x',
    handler: 'index.handler',
    codeDir: join(FUNCTIONS_DIR, 'noop'),
    memoryMb: options.memoryMb,
    timeoutSeconds: 3,
    variables: {},
    initializationType: 'on-demand',
    region: 'us-east-1',
    accountId: '123456789012',
    logGroupName: '/aws/lambda/noop',
    logStreamName: id,
    tmpDir: join(tmpdir(), `laminar-probe-${randomUUID()}`),
    layerDirs: [],
    isolation: 'thread',
  };
  const env = new mod.ThreadEnvironment(id, spec, { bootstrapPath: join(dist, 'environments', 'thread', 'bootstrap.js') });
  if (!(await env.init()).ok) throw new Error('a probe environment failed its Init');
  const payload = Buffer.from('{}');
  const arn = 'arn:aws:lambda:us-east-1:123456789012:function:noop';
  return {
    call: async () => {
      const out = await env.invoke({ requestId: randomUUID(), payload, invokedFunctionArn: arn, deadlineMs: Date.now() + 3000 });
      if (out.status !== 'success') throw new Error(`invoke answered ${out.status}`);
    },
    stop: () => env.destroy(),
  };
}

/** The threads of this process. */
export const tids = (): string[] => readdirSync('/proc/self/task');

/** CPU time a thread of this process has run, in ns (0 once it is gone). */
export function taskNs(tid: string): number {
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return 0;
  }
}
