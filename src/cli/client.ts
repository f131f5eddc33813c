import { LambdaClient } from '@aws-sdk/client-lambda';

/** Where the CLI finds a running Laminar: --endpoint, else LAMINAR_ENDPOINT, else the default port. */
export function endpointFrom(flag: string | undefined): string {
  return flag ?? process.env.LAMINAR_ENDPOINT ?? 'http://127.0.0.1:9000';
}

/** An AWS SDK client pointed at Laminar (credentials are required by the SDK, unused by Laminar). */
export function lambdaClient(endpoint: string, region = 'us-east-1'): LambdaClient {
  // On Node 20 the SDK warns, when a client is built, that its releases from 2027 will need
  // Node 22. Laminar supports Node 20.19+, and that note on stderr of every CLI call reads like a
  // fault of the command. AWS documents this variable as the switch for that one warning (read
  // when the client is built); a value the user set is kept.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new LambdaClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'laminar', secretAccessKey: 'laminar' },
    maxAttempts: 1,
  });
}
