import type { FastifyInstance } from 'fastify';
import type { Registry } from '../../registry/registry.js';

export interface AccountRouteOptions {
  registry: Registry;
  regionalConcurrencyLimit: number;
  /** Concurrency not reserved by any function. */
  unreservedConcurrency: () => number;
}

/** `GET /2016-08-19/account-settings` with Lambda's limits and this node's usage. */
export async function accountRoutes(app: FastifyInstance, o: AccountRouteOptions): Promise<void> {
  app.get('/2016-08-19/account-settings', async () => {
    const usage = o.registry.usage();
    return {
      AccountLimit: {
        TotalCodeSize: 80_530_636_800,
        CodeSizeUnzipped: 262_144_000,
        CodeSizeZipped: 52_428_800,
        ConcurrentExecutions: o.regionalConcurrencyLimit,
        UnreservedConcurrentExecutions: o.unreservedConcurrency(),
      },
      AccountUsage: { TotalCodeSize: usage.totalCodeSize, FunctionCount: usage.functionCount },
    };
  });
}
