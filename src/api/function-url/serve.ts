/**
 * Serves function URLs: `ANY /lambda-url/<url-id>/<path>` is a synchronous invocation of the
 * config's function or alias through the scheduler, as Invoke is, with the request as an HTTP
 * API v2.0 event and the result mapped back onto HTTP. Lambda's front end answers some requests
 * itself: an unknown id or a refused signature (403), a CORS preflight, a throttle (429), a
 * function error (502). Its error bodies are `{"Message": …}`, not the control plane's shape.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { stopwatch, type Clock } from '../../core/clock.js';
import type { Partition } from '../../core/arn.js';
import { LaminarError, RequestTooLargeException } from '../../core/errors.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { FunctionUrlRow, Registry } from '../../registry/registry.js';
import type { Scheduler } from '../../scheduler/scheduler.js';
import { MAX_SYNC_PAYLOAD } from '../routes/invoke.js';
import { toLaminarError } from '../error-handler.js';
import { parseUrlTarget, URL_PATH_PREFIX } from './address.js';
import { isPreflight, preflightHeaders, responseCorsHeaders, withoutCorsHeaders, type CorsRequest } from './cors.js';
import { httpEvent } from './event.js';
import { urlResponse } from './response.js';
import { verifySigV4 } from './sigv4.js';

export interface FunctionUrlServeOptions {
  registry: Registry;
  scheduler: Scheduler;
  metrics: Metrics;
  partition: Partition;
  clock: Clock;
  /** Secret access key by access key id: the signers an AWS_IAM URL accepts. */
  credentials: ReadonlyMap<string, string>;
}

/** What Lambda answers when a function URL refuses a request for want of permission. */
const FORBIDDEN = 'Forbidden. For troubleshooting Function URL authorization issues, see: https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html';

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** An answer of the URL front end itself: status, `x-amzn-ErrorType`, `{"Message": …}`. */
function frontEndError(reply: FastifyReply, status: number, code: string, message: string | null, extra: Record<string, string> = {}): number {
  reply.code(status).header('x-amzn-ErrorType', code).header('content-type', 'application/json');
  for (const [name, value] of Object.entries(extra)) reply.header(name, value);
  void reply.send(JSON.stringify({ Message: message }));
  return status;
}

function laminarErrorAnswer(reply: FastifyReply, err: LaminarError): number {
  const extra: Record<string, string> = {};
  if (err.retryAfterSeconds !== undefined) extra['Retry-After'] = String(err.retryAfterSeconds);
  if (err.reason !== undefined) extra['X-Laminar-Throttle-Reason'] = err.reason;
  return frontEndError(reply, err.statusCode, err.code, err.message, extra);
}

/** A function error or an unusable result: Lambda's bare 502. Laminar's header says which. */
function badGateway(reply: FastifyReply, why: string): number {
  void reply.code(502).header('content-type', 'text/plain; charset=utf-8').header('X-Laminar-Function-Error', why).send('Internal Server Error');
  return 502;
}

/** Whether Node can send the header; one it cannot (a newline in a value, say) is left out rather than failing the answer. */
function sendable(name: string, value: string): boolean {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

const sourceIp = (req: FastifyRequest): string => (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');

export async function functionUrlServeRoutes(app: FastifyInstance, o: FunctionUrlServeOptions): Promise<void> {
  const bodyLimit = MAX_SYNC_PAYLOAD + 1024 * 1024;
  // Bodies arrive as raw bytes whatever their type; the event carries them as text or base64.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));
  // Errors before the handler (a body over the limit) leave in the URL front end's shape too.
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    laminarErrorAnswer(reply, toLaminarError(err));
  });

  /** Everything after the config is found; returns the status sent, for the metrics. */
  async function answer(req: FastifyRequest, reply: FastifyReply, row: FunctionUrlRow, rawPath: string, rawQueryString: string): Promise<number> {
    const cors = row.config.Cors;
    const origin = header(req, 'origin');
    const requestMethod = header(req, 'access-control-request-method');
    const corsRequest: CorsRequest = { method: req.method, ...(origin !== undefined ? { origin } : {}), ...(requestMethod !== undefined ? { requestMethod } : {}) };
    // Browsers send preflights without credentials, so they are answered before any signature check.
    if (cors && isPreflight(corsRequest)) {
      void reply.code(200).headers(preflightHeaders(cors, corsRequest)).send();
      return 200;
    }
    const body = req.body instanceof Buffer ? req.body : undefined;
    let iam: { accessKeyId: string } | undefined;
    if (row.config.AuthType === 'AWS_IAM') {
      const verdict = await verifySigV4(
        { method: req.method, rawPath: req.url.split('?', 1)[0] as string, rawQueryString, headers: req.headers, body },
        { credentials: o.credentials, region: o.partition.region, nowMs: o.clock.now() },
      );
      if (!verdict.ok) return frontEndError(reply, 403, 'AccessDeniedException', FORBIDDEN, { 'X-Laminar-Auth-Error': verdict.reason });
      iam = { accessKeyId: verdict.accessKeyId };
    }
    const event = httpEvent({
      method: req.method,
      rawPath,
      rawQueryString,
      rawHeaders: req.raw.rawHeaders,
      body,
      sourceIp: sourceIp(req),
      protocol: `HTTP/${req.raw.httpVersion}`,
      port: req.socket.localPort ?? 0,
      urlId: row.urlId,
      requestId: req.id,
      accountId: o.partition.accountId,
      nowMs: o.clock.now(),
      ...(iam ? { iam } : {}),
    });
    const payload = Buffer.from(JSON.stringify(event));
    if (payload.length > MAX_SYNC_PAYLOAD) {
      return laminarErrorAnswer(reply, new RequestTooLargeException(`Request must be smaller than ${MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation`));
    }

    let result;
    try {
      // The same path as a synchronous Invoke: resolution (the alias's weights), admission, placement.
      const target = o.registry.resolve(row.functionName, row.qualifier === '' ? undefined : row.qualifier);
      result = await o.scheduler.invoke(target, { requestId: req.id }, payload);
    } catch (err) {
      const mapped = toLaminarError(err as Error);
      if (!(err instanceof LaminarError)) req.log.error({ err, reqId: req.id }, 'function URL: internal error');
      return laminarErrorAnswer(reply, mapped);
    }
    reply.header('X-Laminar-Cold-Start', String(result.coldStart));
    if (result.functionError) return badGateway(reply, result.functionError);
    const mapped = urlResponse(result.payload);
    if (!mapped.ok) return badGateway(reply, `Laminar.InvalidResponse: ${mapped.reason}`);
    const r = mapped.response;
    // With CORS configured, the config's headers replace whatever CORS headers the function set.
    const headers = cors ? { ...withoutCorsHeaders(r.headers), ...responseCorsHeaders(cors, origin) } : r.headers;
    for (const [name, value] of Object.entries(headers)) {
      // Framing is the server's to set; the function's values could only contradict the body.
      if (/^(content-length|transfer-encoding|connection)$/i.test(name)) continue;
      if (sendable(name, value)) reply.header(name, value);
    }
    const cookies = r.cookies.filter((c) => sendable('set-cookie', c));
    if (cookies.length > 0) reply.header('set-cookie', cookies);
    void reply.code(r.statusCode).send(r.body);
    return r.statusCode;
  }

  app.all(`${URL_PATH_PREFIX}*`, { bodyLimit }, async (req, reply) => {
    const target = parseUrlTarget(req.url);
    const row = target && o.registry.functionUrlById(target.urlId);
    // Lambda's answer for an address that is no function URL (or no longer one).
    if (!target || !row) {
      frontEndError(reply, 403, 'AccessDeniedException', null);
      return reply;
    }
    const elapsed = stopwatch();
    let status = 500;
    try {
      status = await answer(req, reply, row, target.rawPath, target.rawQueryString);
    } finally {
      o.metrics.recordUrlRequest({ function: row.functionName, qualifier: row.qualifier === '' ? '$LATEST' : row.qualifier }, status, elapsed() / 1000);
    }
    return reply;
  });
}
