/**
 * The EventBridge API over awsJson1_1, as `@aws-sdk/client-eventbridge` and `aws events` send
 * it: `POST /`, `X-Amz-Target: AWSEvents.<Operation>`, `Content-Type:
 * application/x-amz-json-1.1`. An encapsulated plugin with its own body parser and error
 * handler (EventBridge's error shapes); its `POST /` is constrained to the `AWSEvents` service,
 * so it shares the path with Application Auto Scaling (`core/aws-json.ts`).
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { addAwsJsonBodyParser, AWS_JSON_CONTENT_TYPE, awsJsonRoute, sendAwsJsonError, sendAwsJsonResult, serveOperation } from '../core/aws-json.js';
import type { SharedWrite } from '../core/shared-write.js';
import { AccessDeniedException, LaminarError } from '../core/errors.js';
import {
  EventBridgeError,
  EventsAccessDeniedException,
  EventsInternalException,
  EventsSerializationException,
  EventsUnknownOperationException,
  EventsValidationException,
} from './errors.js';
import type { Schedules } from './service.js';
import { readRequest, type EventsInputs, type EventsOperation } from './shapes.js';

const SERVICE = 'AWSEvents';
const TARGET_PREFIX = `${SERVICE}.`;

type Operations = { [K in EventsOperation]: (s: Schedules, input: EventsInputs[K]) => object };

/** Every operation served, by its X-Amz-Target name; each body is read through its shape (`shapes.ts`). */
const SERVED: Operations = {
  PutRule: (s, i) => s.putRule(i),
  DescribeRule: (s, i) => s.describeRule(i),
  ListRules: (s, i) => s.listRules(i),
  EnableRule: (s, i) => s.enableRule(i),
  DisableRule: (s, i) => s.disableRule(i),
  DeleteRule: (s, i) => s.deleteRule(i),
  PutTargets: (s, i) => s.putTargets(i),
  ListTargetsByRule: (s, i) => s.listTargetsByRule(i),
  RemoveTargets: (s, i) => s.removeTargets(i),
};

export const EVENTBRIDGE_OPERATIONS: readonly string[] = Object.keys(SERVED);

function serve<K extends EventsOperation>(op: K, s: Schedules, body: unknown): object {
  return SERVED[op](s, readRequest(op, body));
}

export interface EventBridgeRouteOptions {
  schedules: Schedules;
  /** How a changing operation runs: in a cluster, as one write of the registry's log. */
  write?: SharedWrite;
}

/** Maps anything thrown while serving a request onto EventBridge's error shapes. */
export function toEventBridgeError(err: unknown): EventBridgeError {
  if (err instanceof EventBridgeError) return err;
  if (err instanceof AccessDeniedException) return new EventsAccessDeniedException(err.message);
  if (err instanceof LaminarError) return err.statusCode < 500 ? new EventsValidationException(err.message) : new EventsInternalException(err.message);
  const e = err as FastifyError;
  switch (e.code) {
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new EventsSerializationException('Could not parse the request body as JSON: ' + e.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new EventsSerializationException(`Unsupported content type: send ${AWS_JSON_CONTENT_TYPE}.`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new EventsValidationException('The request body is too large.');
    default:
      return new EventsInternalException('Laminar hit an internal error: ' + (e.message ?? String(err)));
  }
}

export async function eventBridgeRoutes(app: FastifyInstance, o: EventBridgeRouteOptions): Promise<void> {
  addAwsJsonBodyParser(app, (message) => new EventsSerializationException(message));

  app.setErrorHandler((err: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
    const mapped = toEventBridgeError(err);
    if (mapped instanceof EventsInternalException) req.log.error({ err, reqId: req.id }, 'eventbridge internal error');
    return sendAwsJsonError(reply, mapped);
  });

  app.post('/', awsJsonRoute(app, SERVICE), async (req: FastifyRequest, reply: FastifyReply) => {
    // The route constraint guarantees the service prefix; the operation is checked here.
    const target = String(req.headers['x-amz-target']);
    const name = target.slice(TARGET_PREFIX.length);
    if (!target.startsWith(TARGET_PREFIX) || !Object.hasOwn(SERVED, name)) {
      throw new EventsUnknownOperationException(`Unknown operation ${target}: Laminar serves ${EVENTBRIDGE_OPERATIONS.join(', ')}.`);
    }
    const result = await serveOperation(name, o.write, () => serve(name as EventsOperation, o.schedules, req.body ?? {}));
    return sendAwsJsonResult(reply, req.id, result);
  });
}
