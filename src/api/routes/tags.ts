import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseTaggedFunction, type Partition } from '../../core/arn.js';
import type { Registry } from '../../registry/registry.js';
import { TaggableResourceParams, TagResourceBody, UntagResourceQuery } from '../../registry/shapes.js';

export interface TagRouteOptions {
  registry: Registry;
  partition: Partition;
}

/** Every part below has passed its route's schema. */
type Req = FastifyRequest<{
  Params: { Resource: string };
  Querystring: { tagKeys?: string[] | string };
  Body: { Tags: Record<string, string> };
}>;

/** TagResource, UntagResource and ListTags of the 2017-03-31 API, on function ARNs. */
export async function tagRoutes(app: FastifyInstance, o: TagRouteOptions): Promise<void> {
  const fn = (req: Req) => parseTaggedFunction(req.params.Resource, o.partition);

  app.post('/2017-03-31/tags/:Resource', { schema: { params: TaggableResourceParams, body: TagResourceBody } }, async (req: Req, reply) => {
    o.registry.tagResource(fn(req), req.body.Tags);
    return reply.code(204).send();
  });

  app.get('/2017-03-31/tags/:Resource', { schema: { params: TaggableResourceParams } }, async (req: Req) => ({
    Tags: o.registry.listTags(fn(req)),
  }));

  app.delete(
    '/2017-03-31/tags/:Resource',
    {
      schema: { params: TaggableResourceParams, querystring: UntagResourceQuery },
      // The query parser gives one `tagKeys` as a string and several as a list; the shape is a list.
      preValidation: async (req: Req) => {
        if (typeof req.query.tagKeys === 'string') req.query.tagKeys = [req.query.tagKeys];
      },
    },
    async (req: Req, reply) => {
      o.registry.untagResource(fn(req), req.query.tagKeys as string[]);
      return reply.code(204).send();
    },
  );
}
