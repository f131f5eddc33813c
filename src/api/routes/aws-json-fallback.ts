/**
 * `POST /` for a request whose X-Amz-Target names no awsJson1_1 service Laminar serves (the
 * services' own routes are constrained to theirs, `core/aws-json.ts`): the protocol's
 * UnknownOperationException, rather than Lambda's 404 for an unknown path.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AwsJsonError, sendAwsJsonError } from '../../core/aws-json.js';

class UnknownAwsJsonOperation extends AwsJsonError {
  readonly code = 'UnknownOperationException';
  readonly statusCode = 400;
}

const SERVED = 'Laminar serves AnyScaleFrontendService.* (Application Auto Scaling) and AWSEvents.* (EventBridge) at POST /';

export async function awsJsonFallbackRoutes(app: FastifyInstance): Promise<void> {
  // Whatever the body, the answer is the same; it is not parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/', async (req: FastifyRequest, reply: FastifyReply) => {
    const target = req.headers['x-amz-target'];
    const message = target === undefined ? `Missing X-Amz-Target header: ${SERVED}.` : `Unknown operation ${String(target)}: ${SERVED}.`;
    return sendAwsJsonError(reply, new UnknownAwsJsonOperation(message));
  });
}
