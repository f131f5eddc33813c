import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createReadStream } from 'node:fs';
import { mergeQualifier, parseCreateFunctionName, parseFunctionName, type Partition } from '../../core/arn.js';
import { InvalidParameterValueException, ResourceNotFoundException } from '../../core/errors.js';
import type { Registry } from '../../registry/registry.js';
import type {
  CreateAliasInput,
  CreateFunctionInput,
  PublishVersionInput,
  UpdateAliasInput,
  UpdateFunctionCodeInput,
  UpdateFunctionConfigurationInput,
} from '../../registry/types.js';
import {
  CreateAliasBody,
  CreateFunctionBody,
  ListAliasesQuery,
  ListFunctionsQuery,
  ListVersionsQuery,
  PublishVersionBody,
  QualifierQuery,
  UpdateAliasBody,
  UpdateFunctionCodeBody,
  UpdateFunctionConfigurationBody,
} from '../../registry/shapes.js';

/** CreateFunction's limit on the request (a 50 MB zip, base64 in JSON), as AWS states it. */
export const MAX_CODE_REQUEST_BYTES = 69_905_067;

export interface FunctionRouteOptions {
  registry: Registry;
  partition: Partition;
}

/** Query members after the route's schema has checked (and, for numbers, read) them. */
interface Query {
  Qualifier?: string;
  FunctionVersion?: string;
  Marker?: string;
  MaxItems?: number;
}

/** Every body below has passed its route's schema: the right JSON types, constraints met, unknown members dropped. */
type Req = FastifyRequest<{
  Params: { FunctionName: string; Name?: string };
  Querystring: Query;
  Body: Record<string, unknown>;
}>;

/** Decodes `ZipFile` (base64 in JSON, as the SDK and CLI send it). */
function zipFile(value: unknown, field: string): Buffer | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/=\r\n]*$/.test(value)) {
    throw new InvalidParameterValueException(`${field} must be the base64 encoding of a .zip file.`);
  }
  return Buffer.from(value, 'base64');
}

function paging(q: Query): { marker?: string; maxItems?: number } {
  return { ...(q.Marker ? { marker: q.Marker } : {}), ...(q.MaxItems !== undefined ? { maxItems: q.MaxItems } : {}) };
}

/** Function, version and alias operations of the 2015-03-31 API. */
export async function functionRoutes(app: FastifyInstance, o: FunctionRouteOptions): Promise<void> {
  const ref = (req: Req) => mergeQualifier(parseFunctionName(req.params.FunctionName, o.partition), req.query.Qualifier);
  const unqualified = (req: Req) => {
    const r = ref(req);
    if (r.qualifier !== undefined) {
      throw new InvalidParameterValueException('This operation does not accept a qualified function name; remove the qualifier.');
    }
    return r.functionName;
  };
  const qualified = { schema: { querystring: QualifierQuery } };

  app.post('/2015-03-31/functions', { bodyLimit: MAX_CODE_REQUEST_BYTES, schema: { body: CreateFunctionBody } }, async (req: Req, reply) => {
    const b = req.body;
    const code = b.Code as Record<string, unknown>;
    const input = {
      ...b,
      FunctionName: parseCreateFunctionName(b.FunctionName as string, o.partition),
      Code: { ...code, ZipFile: zipFile(code.ZipFile, 'Code.ZipFile') },
    } as unknown as CreateFunctionInput;
    const config = await o.registry.createFunction(input);
    return reply.code(201).send(config);
  });

  app.get('/2015-03-31/functions', { schema: { querystring: ListFunctionsQuery } }, async (req: Req) => {
    const fv = req.query.FunctionVersion;
    const page = o.registry.listFunctions({ ...(fv ? { functionVersion: 'ALL' as const } : {}), ...paging(req.query) });
    return { Functions: page.items, ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}) };
  });

  app.get('/2015-03-31/functions/:FunctionName', qualified, async (req: Req) => {
    const r = ref(req);
    const out = o.registry.getFunction(r.functionName, r.qualifier);
    // Code.Location: a URL this server answers, as Lambda's presigned S3 URL is one the caller can fetch.
    const hash = /([0-9a-f]{64})\.zip$/.exec(out.Code.Location)?.[1];
    if (hash) out.Code.Location = `${req.protocol}://${req.host}/laminar/code/${hash}.zip`;
    return out;
  });

  app.get('/laminar/code/:Hash', async (req: FastifyRequest<{ Params: { Hash: string } }>, reply) => {
    const file = o.registry.codeArchive(req.params.Hash.replace(/\.zip$/, ''));
    if (!file) throw new ResourceNotFoundException(`No code archive ${req.params.Hash}`);
    return reply.type('application/zip').send(createReadStream(file));
  });

  app.get('/2015-03-31/functions/:FunctionName/configuration', qualified, async (req: Req) => {
    const r = ref(req);
    return o.registry.getFunctionConfiguration(r.functionName, r.qualifier);
  });

  app.put(
    '/2015-03-31/functions/:FunctionName/code',
    { bodyLimit: MAX_CODE_REQUEST_BYTES, schema: { body: UpdateFunctionCodeBody, querystring: QualifierQuery } },
    async (req: Req) => {
      const b = req.body;
      return o.registry.updateFunctionCode(unqualified(req), { ...b, ZipFile: zipFile(b.ZipFile, 'ZipFile') } as UpdateFunctionCodeInput);
    },
  );

  app.put(
    '/2015-03-31/functions/:FunctionName/configuration',
    { schema: { body: UpdateFunctionConfigurationBody, querystring: QualifierQuery } },
    async (req: Req) => o.registry.updateFunctionConfiguration(unqualified(req), req.body as UpdateFunctionConfigurationInput),
  );

  app.delete('/2015-03-31/functions/:FunctionName', qualified, async (req: Req, reply) => {
    const r = ref(req);
    o.registry.deleteFunction(r.functionName, r.qualifier);
    return reply.code(204).send();
  });

  app.post('/2015-03-31/functions/:FunctionName/versions', { schema: { body: PublishVersionBody } }, async (req: Req, reply) => {
    const config = o.registry.publishVersion(unqualified(req), req.body as PublishVersionInput);
    return reply.code(201).send(config);
  });

  app.get('/2015-03-31/functions/:FunctionName/versions', { schema: { querystring: ListVersionsQuery } }, async (req: Req) => {
    const page = o.registry.listVersionsByFunction(unqualified(req), paging(req.query));
    return { Versions: page.items, ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}) };
  });

  app.post('/2015-03-31/functions/:FunctionName/aliases', { schema: { body: CreateAliasBody } }, async (req: Req, reply) => {
    const alias = o.registry.createAlias(unqualified(req), req.body as unknown as CreateAliasInput);
    return reply.code(201).send(alias);
  });

  app.get('/2015-03-31/functions/:FunctionName/aliases', { schema: { querystring: ListAliasesQuery } }, async (req: Req) => {
    const fv = req.query.FunctionVersion;
    const page = o.registry.listAliases(unqualified(req), { ...(fv ? { functionVersion: fv } : {}), ...paging(req.query) });
    return { Aliases: page.items, ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}) };
  });

  app.get('/2015-03-31/functions/:FunctionName/aliases/:Name', async (req: Req) =>
    o.registry.getAlias(unqualified(req), req.params.Name as string),
  );

  app.put('/2015-03-31/functions/:FunctionName/aliases/:Name', { schema: { body: UpdateAliasBody } }, async (req: Req) =>
    o.registry.updateAlias(unqualified(req), req.params.Name as string, req.body as UpdateAliasInput),
  );

  app.delete('/2015-03-31/functions/:FunctionName/aliases/:Name', async (req: Req, reply) => {
    o.registry.deleteAlias(unqualified(req), req.params.Name as string);
    return reply.code(204).send();
  });
}
