import type { FastifyInstance, FastifyRequest } from 'fastify';
import { mergeQualifier, parseFunctionName, type Partition } from '../../core/arn.js';
import type { ProvisionedConfigOutput } from '../../scheduler/provisioned.js';

/** What the provisioned concurrency routes need. */
export interface ProvisionedService {
  putConfig(functionName: string, qualifier: string | undefined, requested: unknown): ProvisionedConfigOutput;
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
  Querystring: { Qualifier?: string; List?: string; Marker?: string; MaxItems?: string };
  Body: Record<string, unknown> | undefined;
}>;

/** Put/Get/Delete ProvisionedConcurrencyConfig and ListProvisionedConcurrencyConfigs (2019-09-30). */
export async function provisionedRoutes(app: FastifyInstance, o: ProvisionedRouteOptions): Promise<void> {
  const path = '/2019-09-30/functions/:FunctionName/provisioned-concurrency';
  const ref = (req: Req) => mergeQualifier(parseFunctionName(req.params.FunctionName, o.partition), req.query.Qualifier);

  app.put(path, async (req: Req, reply) => {
    const r = ref(req);
    // 202: allocation continues after the answer, as in Lambda.
    return reply.code(202).send(o.provisioned.putConfig(r.functionName, r.qualifier, req.body?.ProvisionedConcurrentExecutions));
  });

  app.get(path, async (req: Req) => {
    const r = ref(req);
    if (req.query.List === 'ALL') {
      const all = o.provisioned.listConfigs(r.functionName);
      const start = req.query.Marker ? Number(req.query.Marker) || 0 : 0;
      const size = Math.min(50, Math.max(1, Number(req.query.MaxItems) || 50));
      const page = all.slice(start, start + size);
      return { ProvisionedConcurrencyConfigs: page, ...(start + size < all.length ? { NextMarker: String(start + size) } : {}) };
    }
    return o.provisioned.getConfig(r.functionName, r.qualifier);
  });

  app.delete(path, async (req: Req, reply) => {
    const r = ref(req);
    o.provisioned.deleteConfig(r.functionName, r.qualifier);
    return reply.code(204).send();
  });
}
