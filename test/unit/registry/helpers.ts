import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import yazl from 'yazl';
import { ManualClock } from '../../../src/core/clock.js';
import type { Partition } from '../../../src/core/arn.js';
import { Registry, type RegistryOptions } from '../../../src/registry/registry.js';
import type { CreateFunctionInput } from '../../../src/registry/types.js';

export const PARTITION: Partition = { region: 'us-east-1', accountId: '123456789012' };
export const ARN = (name: string, q?: string): string =>
  `arn:aws:lambda:us-east-1:123456789012:function:${name}${q === undefined ? '' : `:${q}`}`;

export interface ZipItem {
  name: string;
  content?: string | Buffer;
  /** Full st_mode (type bits included), e.g. 0o100755 or 0o120777 for a symlink. */
  mode?: number;
  dir?: boolean;
}

export async function makeZip(items: ZipItem[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const item of items) {
    if (item.dir) zip.addEmptyDirectory(item.name, item.mode === undefined ? {} : { mode: item.mode });
    else {
      const data = Buffer.isBuffer(item.content) ? item.content : Buffer.from(item.content ?? '');
      zip.addBuffer(data, item.name, item.mode === undefined ? {} : { mode: item.mode });
    }
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/**
 * yazl refuses unsafe names, so hostile archives are built with a harmless name of the same
 * length that is then patched in the local header and the central directory.
 */
export function patchName(zip: Buffer, from: string, to: string): Buffer {
  if (from.length !== to.length) throw new Error('patchName needs names of equal length');
  const out = Buffer.from(zip);
  const needle = Buffer.from(from);
  let at = out.indexOf(needle);
  let count = 0;
  while (at !== -1) {
    Buffer.from(to).copy(out, at);
    count++;
    at = out.indexOf(needle, at + needle.length);
  }
  if (count < 2) throw new Error(`expected the name in both headers, found ${count}`);
  return out;
}

export const handlerZip = (body = 'exports.handler = async () => 1;'): Promise<Buffer> =>
  makeZip([{ name: 'index.js', content: body }]);

/** The registry operations that write; every other method of Registry only reads. */
export const REGISTRY_WRITES = [
  'createFunction',
  'updateFunctionCode',
  'updateFunctionConfiguration',
  'deleteFunction',
  'publishVersion',
  'setReservedConcurrency',
  'putProvisionedConfig',
  'deleteProvisionedConfig',
  'publishLayerVersion',
  'deleteLayerVersion',
  'createAlias',
  'updateAlias',
  'deleteAlias',
  'createFunctionUrlConfig',
  'updateFunctionUrlConfig',
  'deleteFunctionUrlConfig',
  'tagResource',
  'untagResource',
  'putEventInvokeConfig',
  'updateEventInvokeConfig',
  'deleteEventInvokeConfig',
] as const satisfies readonly (keyof Registry)[];
type Write = (typeof REGISTRY_WRITES)[number];

/**
 * A registry as the tests use it: its writes may answer asynchronously (on a cluster node they
 * go through the replica), so tests await every write.
 */
export type TestRegistry = Omit<Registry, Write> & {
  [K in Write]: (...args: Parameters<Registry[K]>) => ReturnType<Registry[K]> | Promise<Awaited<ReturnType<Registry[K]>>>;
};

/** A registry opened by a backend, with what the tests need to wait for and close it. */
export interface OpenedRegistry {
  registry: TestRegistry;
  /** Resolves once the writes the registry started by itself (settling) have ended. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Where the tests' registries come from. The default opens the registry directly; the cluster
 * conformance run (test/unit/cluster) opens each behind a replica on Redis and runs these same
 * tests. `space` names one test's registry across reopens (its data dir).
 */
export interface RegistryBackend {
  open(opts: RegistryOptions, space: string): Promise<OpenedRegistry>;
  drop?(space: string): Promise<void>;
}

const embedded: RegistryBackend = {
  open: async (opts) => {
    const registry = Registry.open(opts);
    return { registry, settled: async () => undefined, close: async () => registry.close() };
  },
};

let backend: RegistryBackend = embedded;

export function useRegistryBackend(b: RegistryBackend): void {
  backend = b;
}

export interface Env {
  dataDir: string;
  clock: ManualClock;
  registry: TestRegistry;
  /** Moves the clock, then waits for the writes that started (an activation delay ending). */
  advance(ms: number): Promise<void>;
  reopen(extra?: Partial<RegistryOptions>): Promise<TestRegistry>;
  cleanup(): Promise<void>;
}

export async function setup(extra: Partial<RegistryOptions> = {}): Promise<Env> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'laminar-registry-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 2, 3, 4, 5, 678));
  let opened = await backend.open({ dataDir, clock, partition: PARTITION, ...extra }, dataDir);
  const env: Env = {
    dataDir,
    clock,
    registry: opened.registry,
    async advance(ms) {
      clock.advance(ms);
      await opened.settled();
    },
    async reopen(more = {}) {
      await opened.close();
      opened = await backend.open({ dataDir, clock, partition: PARTITION, ...extra, ...more }, dataDir);
      await opened.settled();
      env.registry = opened.registry;
      return env.registry;
    },
    async cleanup() {
      await opened.close();
      await backend.drop?.(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  await opened.settled();
  return env;
}

export async function fnInput(name: string, extra: Partial<CreateFunctionInput> = {}): Promise<CreateFunctionInput> {
  return { FunctionName: name, Runtime: 'nodejs20.x', Handler: 'index.handler', Code: { ZipFile: await handlerZip() }, ...extra };
}

/** Runs `fn` and returns the error it throws (failing when it does not). */
export async function caught(fn: () => unknown): Promise<Error & { code?: string; statusCode?: number }> {
  try {
    await fn();
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected an error');
}
