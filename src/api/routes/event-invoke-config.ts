import type { FastifyInstance, FastifyRequest } from 'fastify';
import { mergeQualifier, parseFunctionName, type Partition } from '../../core/arn.js';
import type { Registry } from '../../registry/registry.js';
import { EventInvokeConfigBody, ListEventInvokeConfigsQuery, QualifierQuery } from '../../registry/shapes.js';
import type { EventInvokeConfigInput } from '../../registry/types.js';

export interface EventInvokeConfigRouteOptions {
  registry: Registry;
  partition: Partition;
}

/** Every part below has passed its route's schema. */
type Req = FastifyRequest<{
  Params: { FunctionName: string };
  Querystring: { Qualifier?: string; Marker?: string; MaxItems?: number };
  Body: EventInvokeConfigInput;
}>;

/**
 * Put (PUT), Get, Update (POST) and Delete FunctionEventInvokeConfig and
 * ListFunctionEventInvokeConfigs, under the 2019-09-25 prefix as in AWS.
 */
export async function eventInvokeConfigRoutes(app: FastifyInstance, o: EventInvokeConfigRouteOptions): Promise<void> {
  const path = '/2019-09-25/functions/:FunctionName/event-invoke-config';
  const ref = (req: Req) => mergeQualifier(parseFunctionName(req.params.FunctionName, o.partition), req.query.Qualifier);
  const write = { schema: { querystring: QualifierQuery, body: EventInvokeConfigBody } };

  app.put(path, write, async (req: Req) => {
    const r = ref(req);
    return o.registry.putEventInvokeConfig(r.functionName, r.qualifier, req.body ?? {});
  });

  app.post(path, write, async (req: Req) => {
    const r = ref(req);
    return o.registry.updateEventInvokeConfig(r.functionName, r.qualifier, req.body ?? {});
  });

  app.get(path, { schema: { querystring: QualifierQuery } }, async (req: Req) => {
    const r = ref(req);
    return o.registry.getEventInvokeConfig(r.functionName, r.qualifier);
  });

  app.delete(path, { schema: { querystring: QualifierQuery } }, async (req: Req, reply) => {
    const r = ref(req);
    o.registry.deleteEventInvokeConfig(r.functionName, r.qualifier);
    return reply.code(204).send();
  });

  app.get(`${path}/list`, { schema: { querystring: ListEventInvokeConfigsQuery } }, async (req: Req) => {
    // The list covers the whole function: a qualifier in the name is ignored.
    const name = parseFunctionName(req.params.FunctionName, o.partition).functionName;
    const page = o.registry.listEventInvokeConfigs(name, {
      ...(req.query.Marker ? { marker: req.query.Marker } : {}),
      ...(req.query.MaxItems !== undefined ? { maxItems: req.query.MaxItems } : {}),
    });
    return { FunctionEventInvokeConfigs: page.items, ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}) };
  });
}
