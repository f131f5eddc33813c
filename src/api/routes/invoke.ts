import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { mergeQualifier, parseFunctionName, type FunctionRef, type Partition } from '../../core/arn.js';
import {
  InvalidParameterValueException,
  InvalidRequestContentException,
  RequestTooLargeException,
  ValidationException,
  validationMessage,
} from '../../core/errors.js';
import { tailBase64 } from '../../logs/report-line.js';
import type { Registry } from '../../registry/registry.js';
import type { EventSink } from '../../async/dispatcher.js';
import { MAX_EVENT_PAYLOAD_BYTES } from '../../async/queue.js';
import type { ResolvedTarget } from '../../registry/types.js';
import type { Scheduler } from '../../scheduler/scheduler.js';
import { sendThrottle } from '../throttle-reply.js';

/** Lambda's request limits: 6 MB synchronous, 1 MB asynchronous (since Oct 2025). */
export const MAX_SYNC_PAYLOAD = 6 * 1024 * 1024;
export const MAX_ASYNC_PAYLOAD = MAX_EVENT_PAYLOAD_BYTES;
const MAX_CLIENT_CONTEXT = 3583;

export interface InvokeRouteOptions {
  registry: Registry;
  scheduler: Scheduler;
  events: EventSink;
  partition: Partition;
}

type InvokeRequest = FastifyRequest<{ Params: { FunctionName: string }; Querystring: { Qualifier?: string } }>;

declare module 'fastify' {
  interface FastifyRequest {
    /** What an invoke resolved before its body was read, so the handler does not resolve it again. */
    invokeResolved: { ref: FunctionRef; target: ResolvedTarget } | null;
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function enumHeader(req: FastifyRequest, name: string, field: string, allowed: readonly string[], fallback: string): string {
  const value = header(req, name) ?? fallback;
  if (!allowed.includes(value)) {
    throw new ValidationException(
      validationMessage([{ field, value, constraint: `Member must satisfy enum value set: [${allowed.join(', ')}]` }]),
    );
  }
  return value;
}

/** Decodes X-Amz-Client-Context: base64 of a JSON object, at most 3,583 bytes. */
function clientContext(req: FastifyRequest): string | undefined {
  const raw = header(req, 'x-amz-client-context');
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > MAX_CLIENT_CONTEXT) {
    throw new InvalidParameterValueException(`Client context must be smaller than ${MAX_CLIENT_CONTEXT} bytes when base64 encoded.`);
  }
  const text = Buffer.from(raw, 'base64').toString('utf8');
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) throw new Error('not an object');
  } catch {
    throw new InvalidParameterValueException('Client context must be a valid Base64-encoded JSON object.');
  }
  return text;
}

const EMPTY_EVENT = Buffer.from('{}');

/** The event bytes: an empty body is `{}`; anything else must parse as JSON. Never evaluated. */
function eventBytes(body: Buffer | undefined): Buffer {
  if (!body || body.length === 0) return EMPTY_EVENT;
  try {
    JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new InvalidRequestContentException(`Could not parse request body into json: ${(err as Error).message}`);
  }
  return body;
}

/** `POST /2015-03-31/functions/{FunctionName}/invocations`: sync, async (Event) and DryRun. */
export async function invokeRoutes(app: FastifyInstance, o: InvokeRouteOptions): Promise<void> {
  // Events arrive as raw bytes whatever the content type (the SDK sends none or octet-stream).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_SYNC_PAYLOAD + 1024 * 1024 }, (_req, body, done) =>
    done(null, body),
  );

  app.decorateRequest('invokeResolved', null);

  /**
   * Admission needs only the function, the qualifier and the invocation type, so a synchronous
   * invoke that would be throttled is answered before its event is read or parsed. Anything this
   * cannot settle (a bad name, an unknown function) is left to the handler, which reports it.
   */
  function throttleEarly(req: InvokeRequest, reply: FastifyReply, done: () => void): void {
    const type = header(req, 'x-amz-invocation-type');
    if (type !== undefined && type !== 'RequestResponse') return done();
    let resolved: { ref: FunctionRef; target: ResolvedTarget };
    try {
      const ref = mergeQualifier(parseFunctionName(req.params.FunctionName, o.partition), req.query.Qualifier);
      resolved = { ref, target: o.registry.resolve(ref.functionName, ref.qualifier) };
    } catch {
      return done();
    }
    const throttle = o.scheduler.precheck(resolved.target);
    if (throttle) return sendThrottle(reply, throttle);
    req.invokeResolved = resolved;
    done();
  }

  app.post(
    '/2015-03-31/functions/:FunctionName/invocations',
    { bodyLimit: MAX_SYNC_PAYLOAD + 1024 * 1024, onRequest: throttleEarly },
    async (req: InvokeRequest, reply: FastifyReply) => {
      const invocationType = enumHeader(req, 'x-amz-invocation-type', 'invocationType', ['Event', 'RequestResponse', 'DryRun'], 'RequestResponse');
      const logType = enumHeader(req, 'x-amz-log-type', 'logType', ['None', 'Tail'], 'None');
      const ref = req.invokeResolved?.ref ?? mergeQualifier(parseFunctionName(req.params.FunctionName, o.partition), req.query.Qualifier);
      const body = req.body as Buffer | undefined;
      const limit = invocationType === 'Event' ? MAX_ASYNC_PAYLOAD : MAX_SYNC_PAYLOAD;
      if (body && body.length > limit) {
        throw new RequestTooLargeException(`Request must be smaller than ${limit} bytes for the InvokeFunction operation`);
      }
      const ctx = invocationType === 'RequestResponse' ? clientContext(req) : undefined;
      const payload = eventBytes(body);
      const target = req.invokeResolved?.target ?? o.registry.resolve(ref.functionName, ref.qualifier);

      // Only a synchronous invoke says which version ran; DryRun and Event answers carry no header.
      if (invocationType === 'DryRun') return reply.code(204).send();
      if (invocationType === 'Event') {
        // The event names the function as the caller did, never the version resolved now: each
        // attempt resolves it afresh. The 202 promises the event is on disk.
        await o.events.submit({
          functionName: ref.functionName,
          ...(ref.qualifier !== undefined ? { qualifier: ref.qualifier } : {}),
          payload,
          requestId: req.id,
        });
        return reply.code(202).send();
      }

      const result = await o.scheduler.invoke(target, { requestId: req.id, ...(ctx !== undefined ? { clientContext: ctx } : {}) }, payload);
      reply
        .code(200)
        .header('content-type', 'application/json')
        .header('X-Amz-Executed-Version', target.version)
        .header('X-Laminar-Cold-Start', String(result.coldStart));
      if (result.coldStartReason) reply.header('X-Laminar-Cold-Start-Reason', result.coldStartReason);
      if (result.functionError) reply.header('X-Amz-Function-Error', 'Unhandled');
      if (logType === 'Tail') reply.header('X-Amz-Log-Result', tailBase64(result.log));
      return reply.send(result.payload);
    },
  );
}
