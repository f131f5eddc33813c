import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateFunctionCommand,
  LambdaClient,
  waitUntilFunctionActiveV2,
  type CreateFunctionCommandInput,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll } from 'vitest';
import { createLaminar, type Laminar, type LaminarOptions } from '../../src/app.js';
import { startProbe, type Probe } from './probe.js';
import { zipFolder } from '../../src/cli/package-folder.js';
import { loadConfig } from '../../src/config/load.js';

export const FIXTURES = fileURLToPath(new URL('../fixtures/functions/', import.meta.url));
export const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

export interface Harness {
  laminar: Laminar;
  url: string;
  client: LambdaClient;
  dataDir: string;
  /** Log text echoed by the platform during the test. */
  echoed: string[];
  close(): Promise<void>;
}

/** Starts a real Laminar on 127.0.0.1 with a fresh data dir and an SDK client pointed at it. */
export async function startLaminar(flags: Record<string, unknown> = {}, options: LaminarOptions = {}, dataDir?: string): Promise<Harness> {
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'laminar-test-'));
  // CPU in proportion to memory gives a 128 MB function 7% of a vCPU after Init, as on Lambda;
  // tests of anything but CPU run unthrottled so a loaded machine does not decide their outcome.
  // Tests of the limit itself (and the escape suite) ask for `proportional`.
  const config = loadConfig({ flags: { port: 0, dataDir: dir, printFunctionLogs: false, logLevel: 'silent', environmentCpu: 'unlimited', ...flags } });
  const echoed: string[] = [];
  const laminar = createLaminar(config, { echo: (t) => echoed.push(t), ...options });
  const url = await laminar.listen();
  const client = new LambdaClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  return {
    laminar,
    url,
    client,
    dataDir: dir,
    echoed,
    async close() {
      client.destroy();
      await laminar.close();
      if (!dataDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function zipFixture(name: string): Promise<Buffer> {
  return zipFolder(join(FIXTURES, name));
}

/** Creates a function from a fixture folder and waits until it is Active. */
export async function deployFixture(
  client: LambdaClient,
  fixture: string,
  input: Partial<CreateFunctionCommandInput> = {},
): Promise<string> {
  const name = input.FunctionName ?? `${fixture}-${Math.random().toString(36).slice(2, 8)}`;
  await client.send(
    new CreateFunctionCommand({
      Role: 'arn:aws:iam::000000000000:role/test',
      Runtime: 'nodejs20.x' as Runtime,
      Handler: 'index.handler',
      ...input,
      FunctionName: name,
      Code: { ZipFile: await zipFixture(fixture) },
    }),
  );
  await waitUntilFunctionActiveV2({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { FunctionName: name });
  return name;
}

export function decode(payload: Uint8Array | undefined): unknown {
  return payload && payload.length > 0 ? JSON.parse(Buffer.from(payload).toString('utf8')) : undefined;
}

/**
 * Starts a Laminar (and a concurrency probe) before the tests of a suite and stops both after;
 * the returned object is filled in `beforeAll`.
 */
export function useLaminarWithProbe(flags: Record<string, unknown> = {}, options: LaminarOptions = {}): { h: Harness; probe: Probe } {
  const ctx = {} as { h: Harness; probe: Probe };
  beforeAll(async () => {
    ctx.h = await startLaminar(flags, options);
    ctx.probe = await startProbe();
  });
  afterAll(async () => {
    await ctx.h?.close();
    await ctx.probe?.close();
  });
  return ctx;
}
