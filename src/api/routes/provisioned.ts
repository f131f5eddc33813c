import type { FastifyInstance, FastifyRequest } from 'fastify';
import { mergeQualifier, parseFunctionName, type Partition } from '../../core/arn.js';
import type { ProvisionedConfigOutput } from '../../scheduler/provisioned.js';
import { ProvisionedQuery, PutProvisionedConcurrencyConfigBody } from '../../registry/shapes.js';

/** What the provisioned concurrency routes need. */
export interface ProvisionedService {
  putConfig(functionName: string, qualifier: string | undefined, requested: number): ProvisionedConfigOutput;
  getConfig(functionName: string, qualifier: string | undefined): ProvisionedConfigOutput;
  deleteConfig(functionName: string, qualifier: string | undefined): void;
  listConfigs(functionName: string): ProvisionedConfigOutput[];
}

export interface ProvisionedRouteOptions {
  provisioned: ProvisionedService;
  partition: Partition;
}

type Req = FastifyRequest<{
  Params: { FunctionName: string };
  Querystring: { Qualifier?: string; List?: 'ALL'; Marker?: string; MaxItems?: number };
  Body: { ProvisionedConcurrentExecutions: number };
}>;

/** Put/Get/Delete ProvisionedConcurrencyConfig and ListProvisionedConcurrencyConfigs (2019-09-30). */
export async function provisionedRoutes(app: FastifyInstance, o: ProvisionedRouteOptions): Promise<void> {
  const path = '/2019-09-30/functions/:FunctionName/provisioned-concurrency';
  const ref = (req: Req) => mergeQualifier(parseFunctionName(req.params.FunctionName, o.partition), req.query.Qualifier);

  const query = { schema: { querystring: ProvisionedQuery } };

  app.put(path, { schema: { querystring: ProvisionedQuery, body: PutProvisionedConcurrencyConfigBody } }, async (req: Req, reply) => {
    const r = ref(req);
    // 202: allocation continues after the answer, as in Lambda.
    return reply.code(202).send(o.provisioned.putConfig(r.functionName, r.qualifier, req.body.ProvisionedConcurrentExecutions));
  });

  app.get(path, query, async (req: Req) => {
    const r = ref(req);
    if (req.query.List === 'ALL') {
      const all = o.provisioned.listConfigs(r.functionName);
      const start = req.query.Marker ? Number(req.query.Marker) || 0 : 0;
      const size = req.query.MaxItems ?? 50;
      const page = all.slice(start, start + size);
      return { ProvisionedConcurrencyConfigs: page, ...(start + size < all.length ? { NextMarker: String(start + size) } : {}) };
    }
    return o.provisioned.getConfig(r.functionName, r.qualifier);
  });

  app.delete(path, query, async (req: Req, reply) => {
    const r = ref(req);
    o.provisioned.deleteConfig(r.functionName, r.qualifier);
    return reply.code(204).send();
  });
}
