import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseFunctionName, type Partition } from '../../core/arn.js';
import { InvalidParameterValueException } from '../../core/errors.js';
import { PutFunctionConcurrencyBody } from '../../registry/shapes.js';

/** What the concurrency routes need: reads and writes of a function's reservation. */
export interface ConcurrencyService {
  /** Sets the reservation (validated against the unreserved minimum); throws Lambda errors. */
  put(functionName: string, value: number): Promise<number>;
  /** The reservation, or undefined when the function has none. Throws when the function is unknown. */
  get(functionName: string): number | undefined;
  delete(functionName: string): Promise<void>;
}

export interface ConcurrencyRouteOptions {
  concurrency: ConcurrencyService;
  partition: Partition;
}

type Req = FastifyRequest<{ Params: { FunctionName: string }; Body: { ReservedConcurrentExecutions: number } }>;

/**
 * Reserved concurrency. Note the two date prefixes: Put and Delete live under 2017-10-31,
 * Get under 2019-09-30, as in AWS.
 */
export async function concurrencyRoutes(app: FastifyInstance, o: ConcurrencyRouteOptions): Promise<void> {
  const name = (req: Req) => {
    const ref = parseFunctionName(req.params.FunctionName, o.partition);
    if (ref.qualifier !== undefined) {
      throw new InvalidParameterValueException(
        'This operation is permitted on Lambda functions only. Aliases and versions do not support this operation. Please specify either a function name or an unqualified function ARN.',
      );
    }
    return ref.functionName;
  };

  app.put('/2017-10-31/functions/:FunctionName/concurrency', { schema: { body: PutFunctionConcurrencyBody } }, async (req: Req) => ({
    ReservedConcurrentExecutions: await o.concurrency.put(name(req), req.body.ReservedConcurrentExecutions),
  }));

  app.get('/2019-09-30/functions/:FunctionName/concurrency', async (req: Req) => {
    const value = o.concurrency.get(name(req));
    return value === undefined ? {} : { ReservedConcurrentExecutions: value };
  });

  app.delete('/2017-10-31/functions/:FunctionName/concurrency', async (req: Req, reply) => {
    await o.concurrency.delete(name(req));
    return reply.code(204).send();
  });
}
