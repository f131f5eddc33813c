/**
 * A 429 written from a value, not thrown: a throttle must cost about what a bare HTTP answer
 * costs, so a flood of rejected requests cannot starve the admitted ones. The body of each reason
 * is serialized once; it is the exception's own body, so both paths answer byte for byte alike.
 */
import type { FastifyReply } from 'fastify';
import { throttleException } from '../scheduler/admission/throttle.js';
import type { ThrottleReason } from '../scheduler/admission/reasons.js';
import type { Throttle } from '../scheduler/types.js';

const bodies = new Map<ThrottleReason, string>();

function bodyOf(reason: ThrottleReason): string {
  let body = bodies.get(reason);
  if (body === undefined) {
    body = JSON.stringify(throttleException(reason).toBody());
    bodies.set(reason, body);
  }
  return body;
}

/** Sends Lambda's 429 for `throttle`: `TooManyRequestsException`, its `Reason`, and `Retry-After`. */
export function sendThrottle(reply: FastifyReply, throttle: Throttle): void {
  reply
    .code(429)
    .header('x-amzn-ErrorType', 'TooManyRequestsException')
    .header('content-type', 'application/json')
    .header('Retry-After', String(throttle.retryAfterSeconds))
    // Laminar's own: the cause as a header, so load tools can count reasons without parsing bodies.
    .header('X-Laminar-Throttle-Reason', throttle.reason)
    .send(bodyOf(throttle.reason));
}
