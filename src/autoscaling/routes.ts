/**
 * The Application Auto Scaling API over awsJson1_1, as `@aws-sdk/client-application-auto-scaling`
 * and `aws application-autoscaling` send it: `POST /`, `X-Amz-Target:
 * AnyScaleFrontendService.<Operation>`, `Content-Type: application/x-amz-json-1.1`. The plugin has
 * its own body parser and error handler (encapsulated), because this protocol's errors differ
 * from Lambda's restJson1: HTTP 400 (500 for faults) with `x-amzn-ErrorType` and
 * `{"__type": "<Shape>", "message": "…"}`.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LaminarError } from '../core/errors.js';
import {
  AppAutoScalingError,
  InternalServiceException,
  ScalingUnknownOperationException,
  ScalingValidationException,
  SerializationException,
} from './errors.js';
import { readRequest, type ScalingInputs, type ScalingOperation } from './shapes.js';
import type { AutoScaling } from './service.js';

const TARGET_PREFIX = 'AnyScaleFrontendService.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

type Operations = { [K in ScalingOperation]: (s: AutoScaling, input: ScalingInputs[K]) => object };

/** Every operation served, by its X-Amz-Target name; each body is read through its shape (`shapes.ts`). */
const SERVED: Operations = {
  RegisterScalableTarget: (s, i) => s.registerScalableTarget(i),
  DeregisterScalableTarget: (s, i) => s.deregisterScalableTarget(i),
  DescribeScalableTargets: (s, i) => s.describeScalableTargets(i),
  PutScalingPolicy: (s, i) => s.putScalingPolicy(i),
  DescribeScalingPolicies: (s, i) => s.describeScalingPolicies(i),
  DeleteScalingPolicy: (s, i) => s.deleteScalingPolicy(i),
  DescribeScalingActivities: (s, i) => s.describeScalingActivities(i),
  PutScheduledAction: (s, i) => s.putScheduledAction(i),
  DescribeScheduledActions: (s, i) => s.describeScheduledActions(i),
  DeleteScheduledAction: (s, i) => s.deleteScheduledAction(i),
  ListTagsForResource: (s, i) => s.listTagsForResource(i),
  TagResource: (s, i) => s.tagResource(i),
  UntagResource: (s, i) => s.untagResource(i),
};

/** Runs one operation: its body checked against its shape, then the service. */
function serve<K extends ScalingOperation>(op: K, s: AutoScaling, body: unknown): object {
  return SERVED[op](s, readRequest(op, body));
}

export const OPERATIONS: readonly string[] = Object.keys(SERVED);

export interface AppAutoScalingRouteOptions {
  autoscaling: AutoScaling;
}

/** Maps anything thrown while serving a request onto this protocol's error shapes. */
export function toScalingError(err: unknown): AppAutoScalingError {
  if (err instanceof AppAutoScalingError) return err;
  // Lambda's own errors can only come from the port; the caller's request is what they blame.
  if (err instanceof LaminarError) return err.statusCode < 500 ? new ScalingValidationException(err.message) : new InternalServiceException(err.message);
  const e = err as FastifyError;
  switch (e.code) {
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new SerializationException('Could not parse the request body as JSON: ' + e.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new SerializationException(`Unsupported content type: send ${CONTENT_TYPE}.`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ScalingValidationException('The request body is too large.');
    default:
      if (err instanceof SyntaxError) return new SerializationException('Could not parse the request body as JSON: ' + err.message);
      return new InternalServiceException('Laminar hit an internal error: ' + (e.message ?? String(err)));
  }
}

function sendScalingError(reply: FastifyReply, err: AppAutoScalingError): FastifyReply {
  return reply
    .code(err.statusCode)
    .header('x-amzn-ErrorType', err.code)
    .header('content-type', CONTENT_TYPE)
    .send(JSON.stringify(err.toBody()));
}

export async function appAutoScalingRoutes(app: FastifyInstance, o: AppAutoScalingRouteOptions): Promise<void> {
  app.addContentTypeParser(CONTENT_TYPE, { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (err) {
      done(new SerializationException('Could not parse the request body as JSON: ' + (err as Error).message), undefined);
    }
  });

  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const mapped = toScalingError(err);
    if (mapped instanceof InternalServiceException) req.log.error({ err }, 'application auto scaling internal error');
    return sendScalingError(reply, mapped);
  });

  app.post('/', async (req: FastifyRequest, reply: FastifyReply) => {
    const target = req.headers['x-amz-target'];
    const name = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
    if (name === undefined || !Object.hasOwn(SERVED, name)) {
      throw new ScalingUnknownOperationException(
        target === undefined ? 'Missing X-Amz-Target header.' : `Unknown operation ${String(target)}: Laminar serves ${OPERATIONS.join(', ')}.`,
      );
    }
    const result = serve(name as ScalingOperation, o.autoscaling, req.body ?? {});
    return reply.header('content-type', CONTENT_TYPE).header('x-amzn-RequestId', req.id).send(JSON.stringify(result));
  });
}
