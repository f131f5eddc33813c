/**
 * A cluster for tests: `laminar serve` nodes (the compiled dist/main.js) on one real
 * redis-server, each with its own data dir, and the waits the cluster tests share.
 */
import { LambdaClient, type CreateFunctionCommandInput } from '@aws-sdk/client-lambda';
import { deployFixture } from './laminar.js';
import { join } from 'node:path';
import { startServeProcess, type ServeProcess } from './serve-process.js';

/** An SDK client of one node. */
export function lambdaClient(url: string): LambdaClient {
  return new LambdaClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 1 });
}

/** Starts one node per id (`node-<id>`) under `dir`, on Redis at `redisUrl`, with thread environments. */
export async function startNodes(dir: string, redisUrl: string, ids: readonly string[], leaseSeconds: number, extra: string[] = []): Promise<ServeProcess[]> {
  const nodes: ServeProcess[] = [];
  for (const id of ids) {
    nodes.push(
      await startServeProcess(join(dir, id), ['--redis-url', redisUrl, '--node-id', `node-${id}`, '--cluster-lease-seconds', String(leaseSeconds), '--isolation', 'thread', ...extra]),
    );
  }
  return nodes;
}

/** SIGKILLs every node still running and waits until each is gone. */
export async function killAll(nodes: readonly ServeProcess[]): Promise<void> {
  for (const p of nodes) {
    if (p.child.exitCode === null && p.child.signalCode === null) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  }
}

/** Waits until `ok` holds, looking every 25 ms; fails naming `what` after `timeoutMs`. */
export async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Deploys a fixture through the first node and waits until every other node serves it too: the
 * registry is shared, so the others learn of it from Redis.
 */
export async function deployShared(urls: readonly string[], fixture: string, input: Partial<CreateFunctionCommandInput> = {}): Promise<string> {
  const name = await deployFixture(lambdaClient(urls[0] as string), fixture, input);
  for (const url of urls.slice(1)) {
    await until(`${url} knows ${name}`, async () => (await fetch(`${url}/2015-03-31/functions/${encodeURIComponent(name)}/configuration`)).ok, 10_000);
  }
  return name;
}
