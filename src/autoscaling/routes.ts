/**
 * The Application Auto Scaling API over awsJson1_1, as `@aws-sdk/client-application-auto-scaling`
 * and `aws application-autoscaling` send it: `POST /`, `X-Amz-Target:
 * AnyScaleFrontendService.<Operation>`, `Content-Type: application/x-amz-json-1.1`. The plugin has
 * its own body parser and error handler (encapsulated), because this protocol's errors differ
 * from Lambda's restJson1: HTTP 400 (500 for faults) with `x-amzn-ErrorType` and
 * `{"__type": "<Shape>", "message": "…"}`. Its `POST /` is constrained to this service's
 * X-Amz-Target, so EventBridge's plugin serves the same path (`core/aws-json.ts`).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { addAwsJsonBodyParser, AWS_JSON_CONTENT_TYPE, awsJsonRoute, sendAwsJsonError, sendAwsJsonResult, serveOperation } from '../core/aws-json.js';
import type { SharedWrite } from '../core/shared-write.js';
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

const SERVICE = 'AnyScaleFrontendService';
const TARGET_PREFIX = `${SERVICE}.`;

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
  /** How a changing operation runs: in a cluster, as one write of the registry's log. */
  write?: SharedWrite;
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
      return new SerializationException(`Unsupported content type: send ${AWS_JSON_CONTENT_TYPE}.`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ScalingValidationException('The request body is too large.');
    default:
      if (err instanceof SyntaxError) return new SerializationException('Could not parse the request body as JSON: ' + err.message);
      return new InternalServiceException('Laminar hit an internal error: ' + (e.message ?? String(err)));
  }
}

export async function appAutoScalingRoutes(app: FastifyInstance, o: AppAutoScalingRouteOptions): Promise<void> {
  addAwsJsonBodyParser(app, (message) => new SerializationException(message));

  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const mapped = toScalingError(err);
    if (mapped instanceof InternalServiceException) req.log.error({ err, reqId: req.id }, 'application auto scaling internal error');
    return sendAwsJsonError(reply, mapped);
  });

  app.post('/', awsJsonRoute(app, SERVICE), async (req: FastifyRequest, reply: FastifyReply) => {
    // The route constraint guarantees the service prefix; the operation is checked here.
    const target = String(req.headers['x-amz-target']);
    const name = target.slice(TARGET_PREFIX.length);
    if (!target.startsWith(TARGET_PREFIX) || !Object.hasOwn(SERVED, name)) {
      throw new ScalingUnknownOperationException(`Unknown operation ${target}: Laminar serves ${OPERATIONS.join(', ')}.`);
    }
    const result = await serveOperation(name, o.write, () => serve(name as ScalingOperation, o.autoscaling, req.body ?? {}));
    return sendAwsJsonResult(reply, req.id, result);
  });
}
