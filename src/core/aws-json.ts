/**
 * What the awsJson1_1 services on `POST /` share: Application Auto Scaling
 * (`X-Amz-Target: AnyScaleFrontendService.<Op>`) and EventBridge (`AWSEvents.<Op>`). Each is its
 * own encapsulated Fastify plugin with its own body parser and error handler, because each
 * service's errors have their own names; the router tells them apart by the service half of
 * `X-Amz-Target` (a route constraint), so two plugins can both serve `POST /`.
 *
 * Errors of this protocol are HTTP 400 (500 for faults) with the shape name in both
 * `x-amzn-ErrorType` and the body's `__type`, which is what the SDK clients match their
 * exception classes on.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { LaminarError } from './errors.js';
import type { SharedWrite } from './shared-write.js';

export const AWS_JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';

/** An error of an awsJson1_1 service: `{"__type": "<Shape>", "message": "…"}`. */
export abstract class AwsJsonError extends LaminarError {
  override toBody(): Record<string, unknown> {
    return { __type: this.code, message: this.message };
  }
}

/** The route constraint that selects a service by the part of `X-Amz-Target` before the dot. */
export const AMZ_TARGET_CONSTRAINT = 'amzTargetService';

type ConstraintStrategy = Parameters<FastifyInstance['addConstraintStrategy']>[0];

/** The service prefix of an `X-Amz-Target` header: `AWSEvents.PutRule` → `AWSEvents`. */
export function targetService(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const dot = header.indexOf('.');
  return dot < 0 ? header : header.slice(0, dot);
}

const amzTargetStrategy: ConstraintStrategy = {
  name: AMZ_TARGET_CONSTRAINT,
  storage() {
    const handlers = new Map<string, unknown>();
    return {
      get: (service: string) => (handlers.get(service) ?? null) as never,
      set: (service: string, store: unknown) => void handlers.set(service, store),
    };
  },
  // Read on every request the router looks up, so it stays a header read and an indexOf.
  deriveConstraint: (req) => targetService(req.headers['x-amz-target']),
  // A request naming no served service reaches the unconstrained `POST /`, when there is one.
  mustMatchWhenDerived: false,
};

/**
 * Route options that give `POST /` to one awsJson1_1 service. The router's strategy is added on
 * first use (the router is shared by every plugin, so it is added once whichever comes first).
 */
export function awsJsonRoute(app: FastifyInstance, service: string): { constraints: Record<string, string> } {
  if (!app.hasConstraintStrategy(AMZ_TARGET_CONSTRAINT)) app.addConstraintStrategy(amzTargetStrategy);
  return { constraints: { [AMZ_TARGET_CONSTRAINT]: service } };
}

/**
 * Reads awsJson1_1 bodies as JSON objects in this plugin's scope; an empty body is `{}`, and a
 * body that does not parse is refused with the service's own error.
 */
export function addAwsJsonBodyParser(app: FastifyInstance, unparsable: (message: string) => Error): void {
  app.addContentTypeParser(AWS_JSON_CONTENT_TYPE, { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, {});
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (err) {
      done(unparsable('Could not parse the request body as JSON: ' + (err as Error).message), undefined);
    }
  });
}

export function sendAwsJsonError(reply: FastifyReply, err: AwsJsonError): FastifyReply {
  return reply
    .code(err.statusCode)
    .header('x-amzn-ErrorType', err.code)
    .header('content-type', AWS_JSON_CONTENT_TYPE)
    .send(JSON.stringify(err.toBody()));
}

export function sendAwsJsonResult(reply: FastifyReply, requestId: string, result: object): FastifyReply {
  return reply.header('content-type', AWS_JSON_CONTENT_TYPE).header('x-amzn-RequestId', requestId).send(JSON.stringify(result));
}


/**
 * Serves operation `name` through `write` unless it only reads (Describe*, List*): in a cluster
 * every change of an awsJson service's state is one logged write, as the Lambda API's are.
 */
export function serveOperation<T>(name: string, write: SharedWrite | undefined, run: () => T): T | Promise<T> {
  if (!write || name.startsWith('Describe') || name.startsWith('List')) return run();
  return write(run);
}
