import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InvalidParameterValueException, SerializationException, ValidationException, validationMessage } from '../../core/errors.js';
import { compileShape, type Shape } from '../../core/shape.js';
import {
  GetLayerVersionByArnQuery,
  LayerPathParams,
  ListLayersQuery,
  ListLayerVersionsQuery,
  PublishLayerVersionBody,
} from '../../registry/layer-shapes.js';
import type { Registry } from '../../registry/registry.js';
import type { LayerFilter, LayerVersion, PublishLayerVersionInput } from '../../registry/types.js';
import { MAX_CODE_REQUEST_BYTES } from './functions.js';

export interface LayerRouteOptions {
  registry: Registry;
}

interface Query {
  CompatibleRuntime?: string;
  CompatibleArchitecture?: string;
  Marker?: string;
  MaxItems?: number;
  find?: string;
  Arn?: string;
}

/** Every part below has passed its route's schema. */
type Req = FastifyRequest<{
  Params: { LayerName: string; VersionNumber?: string };
  Querystring: Query;
  Body: Record<string, unknown>;
}>;

/** VersionNumber is a long in the model: text that is not an integer fails deserialization. */
function versionNumber(raw: string | undefined): number {
  if (raw === undefined || !/^-?[0-9]+$/.test(raw)) {
    throw new SerializationException(`Could not deserialize the request: 'VersionNumber' must be an integer, not ${JSON.stringify(raw ?? null)}.`);
  }
  return Number(raw);
}

function filter(q: Query): LayerFilter {
  const f: LayerFilter = {};
  if (q.CompatibleRuntime !== undefined) f.compatibleRuntime = q.CompatibleRuntime;
  if (q.CompatibleArchitecture !== undefined) f.compatibleArchitecture = q.CompatibleArchitecture;
  if (q.Marker) f.marker = q.Marker;
  if (q.MaxItems !== undefined) f.maxItems = q.MaxItems;
  return f;
}

/**
 * GET /2018-10-31/layers is two operations told apart by `find=LayerVersion`, so its query is
 * checked here against the shape of the one asked for, with the same outcomes as a route schema.
 */
function checkQuery(shape: Shape): (data: unknown) => Query {
  const check = compileShape<Query>(shape, 'querystring');
  return (data) => {
    const out = check(data);
    if (out.ok) return out.value;
    throw out.kind === 'type' ? new SerializationException(out.message) : new ValidationException(validationMessage(out.violations));
  };
}

/** Layer operations of the 2018-10-31 API. */
export async function layerRoutes(app: FastifyInstance, o: LayerRouteOptions): Promise<void> {
  /** Content.Location: a URL this server answers, as Lambda's presigned S3 URL is one the caller can fetch. */
  const located = (req: Req, out: LayerVersion): LayerVersion => {
    const hash = /([0-9a-f]{64})\.zip$/.exec(out.Content.Location)?.[1];
    if (hash) out.Content.Location = `${req.protocol}://${req.host}/laminar/code/${hash}.zip`;
    return out;
  };
  const byArn = checkQuery(GetLayerVersionByArnQuery);
  const listQuery = checkQuery(ListLayersQuery);

  app.post(
    '/2018-10-31/layers/:LayerName/versions',
    { bodyLimit: MAX_CODE_REQUEST_BYTES, schema: { params: LayerPathParams, body: PublishLayerVersionBody } },
    async (req: Req, reply) => {
      const b = req.body;
      const content = b.Content as Record<string, unknown>;
      const zip = content.ZipFile;
      if (zip !== undefined && (typeof zip !== 'string' || !/^[A-Za-z0-9+/=\r\n]*$/.test(zip))) {
        throw new InvalidParameterValueException('Content.ZipFile must be the base64 encoding of a .zip file.');
      }
      const input = {
        ...b,
        Content: { ...content, ZipFile: zip === undefined ? undefined : Buffer.from(zip, 'base64') },
      } as unknown as PublishLayerVersionInput;
      if (input.Content.ZipFile === undefined) delete input.Content.ZipFile;
      const out = await o.registry.publishLayerVersion(req.params.LayerName, input);
      return reply.code(201).send(located(req, out));
    },
  );

  app.get('/2018-10-31/layers/:LayerName/versions', { schema: { params: LayerPathParams, querystring: ListLayerVersionsQuery } }, async (req: Req) => {
    const page = o.registry.listLayerVersions(req.params.LayerName, filter(req.query));
    return { LayerVersions: page.items, ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}) };
  });

  app.get('/2018-10-31/layers/:LayerName/versions/:VersionNumber', { schema: { params: LayerPathParams } }, async (req: Req) =>
    located(req, o.registry.getLayerVersion(req.params.LayerName, versionNumber(req.params.VersionNumber))),
  );

  app.delete('/2018-10-31/layers/:LayerName/versions/:VersionNumber', { schema: { params: LayerPathParams } }, async (req: Req, reply) => {
    o.registry.deleteLayerVersion(req.params.LayerName, versionNumber(req.params.VersionNumber));
    return reply.code(204).send();
  });

  app.get('/2018-10-31/layers', async (req: Req) => {
    if (req.query.find === 'LayerVersion') {
      const q = byArn({ ...req.query });
      return located(req, o.registry.getLayerVersionByArn(q.Arn as string));
    }
    const page = o.registry.listLayers(filter(listQuery({ ...req.query })));
    return { Layers: page.items, ...(page.nextMarker ? { NextMarker: page.nextMarker } : {}) };
  });
}
