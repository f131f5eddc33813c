import { LambdaClient } from '@aws-sdk/client-lambda';

/** Where the CLI finds a running Laminar: --endpoint, else LAMINAR_ENDPOINT, else the default port. */
export function endpointFrom(flag: string | undefined): string {
  return flag ?? process.env.LAMINAR_ENDPOINT ?? 'http://127.0.0.1:9000';
}

/** An AWS SDK client pointed at Laminar (credentials are required by the SDK, unused by Laminar). */
export function lambdaClient(endpoint: string, region = 'us-east-1'): LambdaClient {
  return new LambdaClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'laminar', secretAccessKey: 'laminar' },
    maxAttempts: 1,
  });
}
