import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import {
  InvalidRequestContentException,
  LaminarError,
  RequestTooLargeException,
  ServiceException,
  UnknownOperationException,
  UnsupportedMediaTypeException,
} from '../core/errors.js';

/** Sends a LaminarError the way Lambda does: status, `x-amzn-ErrorType`, JSON `{Type, message[, Reason]}`. */
export function sendError(reply: FastifyReply, err: LaminarError): FastifyReply {
  reply.code(err.statusCode).header('x-amzn-ErrorType', err.code).header('content-type', 'application/json');
  if (err.retryAfterSeconds !== undefined) reply.header('Retry-After', String(err.retryAfterSeconds));
  // Laminar's own: the throttle's cause as a header, so load tools can count reasons without parsing bodies.
  if (err.reason !== undefined) reply.header('X-Laminar-Throttle-Reason', err.reason);
  return reply.send(JSON.stringify(err.toBody()));
}

/** Maps Fastify's own errors (body parsing, limits) onto Lambda's shapes; anything else is a ServiceException. */
export function toLaminarError(err: FastifyError | Error): LaminarError {
  if (err instanceof LaminarError) return err;
  const code = (err as FastifyError).code;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new RequestTooLargeException('Request must be smaller than the limit of this operation.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UnsupportedMediaTypeException('The content type of the request is not supported; send application/json.');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new InvalidRequestContentException('Could not parse request body into json: ' + err.message);
    default:
      if (err instanceof SyntaxError) return new InvalidRequestContentException('Could not parse request body into json: ' + err.message);
      return new ServiceException('Laminar hit an internal error: ' + err.message);
  }
}

/**
 * Fastify's error handler. It sends and returns nothing: returning the reply makes Fastify treat
 * it as a promise and attach a stream listener per error, which a flood of 429s pays for.
 */
export function errorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const mapped = toLaminarError(err);
  if (mapped instanceof ServiceException) request.log.error({ err, reqId: request.id }, 'internal error');
  sendError(reply, mapped);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendError(reply, new UnknownOperationException(`No operation is served at ${request.method} ${request.url.split('?')[0]}`));
}
