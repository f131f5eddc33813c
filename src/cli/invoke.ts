import { readFileSync } from 'node:fs';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

export interface InvokeCliOptions {
  payload?: string;
  qualifier?: string;
  async?: boolean;
  /** Print the last 4 KB of the invocation's log to stderr. */
  log?: boolean;
}

/** `--payload JSON` or `--payload @file`. */
function payloadBytes(payload: string | undefined): Uint8Array | undefined {
  if (payload === undefined) return undefined;
  const text = payload.startsWith('@') ? readFileSync(payload.slice(1), 'utf8') : payload;
  return Buffer.from(text, 'utf8');
}

export interface InvokeCliResult {
  statusCode: number;
  functionError?: string;
  executedVersion?: string;
  payload: string;
  log?: string;
}

export async function invoke(client: LambdaClient, name: string, o: InvokeCliOptions): Promise<InvokeCliResult> {
  const payload = payloadBytes(o.payload);
  const out = await client.send(
    new InvokeCommand({
      FunctionName: name,
      ...(o.qualifier ? { Qualifier: o.qualifier } : {}),
      ...(payload ? { Payload: payload } : {}),
      InvocationType: o.async ? 'Event' : 'RequestResponse',
      ...(o.log && !o.async ? { LogType: 'Tail' } : {}),
    }),
  );
  return {
    statusCode: out.StatusCode ?? 0,
    ...(out.FunctionError ? { functionError: out.FunctionError } : {}),
    ...(out.ExecutedVersion ? { executedVersion: out.ExecutedVersion } : {}),
    payload: out.Payload ? Buffer.from(out.Payload).toString('utf8') : '',
    ...(out.LogResult ? { log: Buffer.from(out.LogResult, 'base64').toString('utf8') } : {}),
  };
}
