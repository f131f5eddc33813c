import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import {
  CreateFunctionCommand,
  GetFunctionConfigurationCommand,
  ResourceNotFoundException,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
  type LambdaClient,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { folderConfiguration, readFolderSettings, zipFolder } from './package-folder.js';

export interface DeployOptions {
  name?: string;
  handler?: string;
  runtime?: string;
  memory?: number;
  timeout?: number;
  env?: string[];
}

function parseEnv(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--env expects KEY=VALUE, got ${pair}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

/** Zips `dir` and creates the function, or updates its code and configuration; waits until it is ready. */
export async function deploy(client: LambdaClient, dir: string, o: DeployOptions): Promise<Record<string, unknown>> {
  const folder = resolve(dir);
  const settings = readFolderSettings(folder);
  const name = o.name ?? basename(folder);
  const zip = await zipFolder(folder);
  const variables = parseEnv(o.env);
  const wanted = folderConfiguration(settings, {
    ...(o.handler ? { handler: o.handler } : {}),
    ...(o.runtime ? { runtime: o.runtime } : {}),
    ...(o.memory !== undefined ? { memory: o.memory } : {}),
    ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
    ...(variables ? { variables } : {}),
  });
  const config = { ...wanted, Runtime: wanted.Runtime as Runtime };
  const waiter = { client, maxWaitTime: 120, minDelay: 1, maxDelay: 2 };
  let existing;
  try {
    existing = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  if (!existing) {
    await client.send(new CreateFunctionCommand({ FunctionName: name, Role: 'arn:aws:iam::000000000000:role/laminar', Code: { ZipFile: zip }, ...config }));
    await waitUntilFunctionActiveV2(waiter, { FunctionName: name });
  } else {
    const sha = createHash('sha256').update(zip).digest('base64');
    if (existing.CodeSha256 !== sha) {
      await client.send(new UpdateFunctionCodeCommand({ FunctionName: name, ZipFile: zip }));
      await waitUntilFunctionUpdatedV2(waiter, { FunctionName: name });
    }
    await client.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, ...config }));
    await waitUntilFunctionUpdatedV2(waiter, { FunctionName: name });
  }
  const final = await client.send(new GetFunctionConfigurationCommand({ FunctionName: name }));
  const { $metadata: _m, ...rest } = final;
  return rest;
}
