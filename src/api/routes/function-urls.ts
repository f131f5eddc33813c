import type { FastifyInstance, FastifyRequest } from 'fastify';
import { functionArn, mergeQualifier, parseFunctionUrlFunctionName, type Partition } from '../../core/arn.js';
import { InvalidParameterValueException } from '../../core/errors.js';
import type { FunctionUrlRow, Registry } from '../../registry/registry.js';
import {
  CreateFunctionUrlConfigBody,
  FunctionUrlQuery,
  ListFunctionUrlConfigsQuery,
  UpdateFunctionUrlConfigBody,
} from '../../registry/shapes.js';
import type { FunctionUrlAuthType, FunctionUrlConfig, FunctionUrlConfigInput } from '../../registry/types.js';
import { functionUrl } from '../function-url/address.js';

export interface FunctionUrlRouteOptions {
  registry: Registry;
  partition: Partition;
  /** `http://host:port` of the URLs handed out; undefined until the server listens. */
  urlOrigin: () => string | undefined;
}

type Req = FastifyRequest<{
  Params: { FunctionName: string };
  Querystring: { Qualifier?: string; Marker?: string; MaxItems?: number };
  Body: FunctionUrlConfigInput;
}>;

/** Which operation answers: each shows the fields AWS's answer to it shows. */
type View = 'create' | 'update' | 'get';

/**
 * A stored config as the API answers it. Create omits LastModifiedTime; Create and Update show
 * InvokeMode only once a request set it; Get and List always show it (BUFFERED by default).
 */
export function presentFunctionUrlConfig(row: FunctionUrlRow, origin: string, partition: Partition, view: View): FunctionUrlConfig {
  const c = row.config;
  const out: FunctionUrlConfig = {
    FunctionUrl: functionUrl(origin, row.urlId),
    FunctionArn: functionArn(partition, row.functionName, row.qualifier === '' ? undefined : row.qualifier),
    AuthType: c.AuthType,
    CreationTime: c.CreationTime,
  };
  if (c.Cors !== undefined) out.Cors = c.Cors;
  if (view !== 'create') out.LastModifiedTime = c.LastModifiedTime;
  const mode = view === 'get' ? (c.InvokeMode ?? 'BUFFERED') : c.InvokeMode;
  if (mode !== undefined) out.InvokeMode = mode;
  return out;
}

/** Create/Get/Update/DeleteFunctionUrlConfig and ListFunctionUrlConfigs (2021-10-31). */
export async function functionUrlRoutes(app: FastifyInstance, o: FunctionUrlRouteOptions): Promise<void> {
  const path = '/2021-10-31/functions/:FunctionName/url';
  const ref = (req: Req) => mergeQualifier(parseFunctionUrlFunctionName(req.params.FunctionName, o.partition), req.query.Qualifier);
  // Before the server listens (an app built for inject), the URL names the host that was asked.
  const origin = (req: Req) => o.urlOrigin() ?? `${req.protocol}://${req.host}`;
  const present = (req: Req, row: FunctionUrlRow, view: View) => presentFunctionUrlConfig(row, origin(req), o.partition, view);

  app.post(path, { schema: { querystring: FunctionUrlQuery, body: CreateFunctionUrlConfigBody } }, async (req: Req, reply) => {
    const r = ref(req);
    const row = o.registry.createFunctionUrlConfig(r.functionName, r.qualifier, req.body as FunctionUrlConfigInput & { AuthType: FunctionUrlAuthType });
    return reply.code(201).send(present(req, row, 'create'));
  });

  app.get(path, { schema: { querystring: FunctionUrlQuery } }, async (req: Req) => {
    const r = ref(req);
    return present(req, o.registry.getFunctionUrlConfig(r.functionName, r.qualifier), 'get');
  });

  app.put(path, { schema: { querystring: FunctionUrlQuery, body: UpdateFunctionUrlConfigBody } }, async (req: Req) => {
    const r = ref(req);
    return present(req, o.registry.updateFunctionUrlConfig(r.functionName, r.qualifier, req.body), 'update');
  });

  app.delete(path, { schema: { querystring: FunctionUrlQuery } }, async (req: Req, reply) => {
    const r = ref(req);
    o.registry.deleteFunctionUrlConfig(r.functionName, r.qualifier);
    return reply.code(204).send();
  });

  app.get('/2021-10-31/functions/:FunctionName/urls', { schema: { querystring: ListFunctionUrlConfigsQuery } }, async (req: Req) => {
    const r = parseFunctionUrlFunctionName(req.params.FunctionName, o.partition);
    if (r.qualifier !== undefined) {
      throw new InvalidParameterValueException('This operation does not accept a qualified function name; remove the qualifier.');
    }
    const page = o.registry.listFunctionUrlConfigs(r.functionName, {
      ...(req.query.Marker ? { marker: req.query.Marker } : {}),
      ...(req.query.MaxItems !== undefined ? { maxItems: req.query.MaxItems } : {}),
    });
    return {
      FunctionUrlConfigs: page.items.map((row) => present(req, row, 'get')),
      ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}),
    };
  });
}
