import { TooManyRequestsException } from '../../core/errors.js';
import { throttleMessage, type ThrottleReason } from './reasons.js';

const shared = new Map<ThrottleReason, TooManyRequestsException>();

/**
 * The 429 of a throttle. For the common Retry-After of 1 s it is one immutable exception per
 * reason: a throttle must cost far less than an invocation, and capturing a stack per 429 was the
 * largest part of its cost.
 */
export function throttleException(reason: ThrottleReason, retryAfterSeconds = 1): TooManyRequestsException {
  if (retryAfterSeconds !== 1) return new TooManyRequestsException(throttleMessage(reason), reason, retryAfterSeconds);
  let err = shared.get(reason);
  if (!err) {
    err = Object.freeze(new TooManyRequestsException(throttleMessage(reason), reason, 1));
    shared.set(reason, err);
  }
  return err;
}
