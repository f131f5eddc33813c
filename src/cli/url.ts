import {
  CreateFunctionUrlConfigCommand,
  GetFunctionUrlConfigCommand,
  ResourceNotFoundException,
  UpdateFunctionUrlConfigCommand,
  type FunctionUrlAuthType,
  type LambdaClient,
} from '@aws-sdk/client-lambda';

export interface UrlCliOptions {
  /** Create the URL config when the function (or alias) has none. */
  create?: boolean;
  authType?: string;
  /** An alias: its own URL rather than the function's. */
  qualifier?: string;
}

const AUTH_TYPES: readonly string[] = ['NONE', 'AWS_IAM'];

/**
 * `laminar url`: the function's URL, created when asked. With --auth-type, the URL ends up with
 * that auth type whether it existed or not, so the same command run twice changes nothing.
 */
export async function functionUrl(client: LambdaClient, name: string, o: UrlCliOptions = {}): Promise<string> {
  if (o.authType !== undefined && !AUTH_TYPES.includes(o.authType)) throw new Error(`--auth-type must be NONE or AWS_IAM, got ${o.authType}`);
  const target = { FunctionName: name, ...(o.qualifier ? { Qualifier: o.qualifier } : {}) };
  const authType = o.authType as FunctionUrlAuthType | undefined;
  try {
    const current = await client.send(new GetFunctionUrlConfigCommand(target));
    if (authType !== undefined && current.AuthType !== authType) {
      await client.send(new UpdateFunctionUrlConfigCommand({ ...target, AuthType: authType }));
    }
    return current.FunctionUrl as string;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
    if (!o.create) throw new Error(`${o.qualifier ? `${name}:${o.qualifier}` : name} has no function URL (or does not exist); add --create to make one`);
  }
  const created = await client.send(new CreateFunctionUrlConfigCommand({ ...target, AuthType: authType ?? 'NONE' }));
  return created.FunctionUrl as string;
}
