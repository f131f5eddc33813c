import {
  CreateAliasCommand,
  GetAliasCommand,
  PublishVersionCommand,
  ResourceNotFoundException,
  UpdateAliasCommand,
  type LambdaClient,
} from '@aws-sdk/client-lambda';

/** Drops the SDK's response metadata so the CLI prints what Lambda's API returned. */
function body<T extends { $metadata?: unknown }>(out: T): Omit<T, '$metadata'> {
  const { $metadata: _m, ...rest } = out;
  return rest;
}

/** `laminar publish`: freezes $LATEST as the next version (or returns the last one if nothing changed). */
export async function publish(
  client: LambdaClient,
  name: string,
  o: { description?: string } = {},
): Promise<Record<string, unknown>> {
  const out = await client.send(
    new PublishVersionCommand({ FunctionName: name, ...(o.description !== undefined ? { Description: o.description } : {}) }),
  );
  return body(out);
}

export interface AliasCliOptions {
  version: string;
  description?: string;
  /** `V=W` pairs: version V gets weight W (0–1) of the alias's invocations. */
  weights?: string[];
}

function parseWeights(pairs: string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    const weight = Number(pair.slice(eq + 1));
    if (eq <= 0 || pair.slice(eq + 1).trim() === '' || !Number.isFinite(weight)) {
      throw new Error(`--weights expects VERSION=WEIGHT (e.g. 2=0.1), got ${pair}`);
    }
    out[pair.slice(0, eq)] = weight;
  }
  return out;
}

/**
 * `laminar alias`: creates the alias, or updates it when it exists, so running the same command
 * again is harmless. The routing is always sent, so leaving out --weights clears earlier weights:
 * the alias ends up exactly as the command line describes it.
 */
export async function alias(client: LambdaClient, name: string, aliasName: string, o: AliasCliOptions): Promise<Record<string, unknown>> {
  const RoutingConfig = { AdditionalVersionWeights: parseWeights(o.weights) };
  const description = o.description !== undefined ? { Description: o.description } : {};
  let exists = true;
  try {
    await client.send(new GetAliasCommand({ FunctionName: name, Name: aliasName }));
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
    exists = false;
  }
  const out = exists
    ? await client.send(new UpdateAliasCommand({ FunctionName: name, Name: aliasName, FunctionVersion: o.version, RoutingConfig, ...description }))
    : await client.send(new CreateAliasCommand({ FunctionName: name, Name: aliasName, FunctionVersion: o.version, RoutingConfig, ...description }));
  return body(out);
}
