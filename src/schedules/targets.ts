/**
 * PutTargets' per-target checks, pure. Two kinds of refusal, as EventBridge makes them:
 * - the whole request fails (ValidationException) for a malformed ARN or an `Input` that is not
 *   JSON, in AWS's words;
 * - a well-formed target Laminar cannot deliver to (another service, another region or account,
 *   an input transformation) is one failed entry: the request's other targets are still put.
 */
import type { Partition } from '../core/arn.js';
import { EventsValidationException } from './errors.js';
import type { FailedEntry, TargetInput } from './types.js';

/** Any ARN's shape: `arn:partition:service:region:account:resource`. */
const ARN_RE = /^arn:[^:\s]+:[^:\s]+:[^:\s]*:[^:\s]*:\S+$/;
const LAMBDA_RE = /^arn:aws[a-zA-Z-]*:lambda:([^:]+):([^:]+):function:([a-zA-Z0-9-_]{1,64})(?::(\$LATEST|[a-zA-Z0-9-_]{1,128}))?$/;

export type TargetCheck = { ok: true; functionName: string; qualifier?: string } | { ok: false; failed: FailedEntry };

const failed = (target: TargetInput, message: string): TargetCheck => ({
  ok: false,
  failed: { TargetId: target.Id, ErrorCode: 'ValidationException', ErrorMessage: message },
});

/** Throws for what fails the whole request; otherwise the function the target invokes, or its failed entry. */
export function checkTarget(target: TargetInput, p: Partition): TargetCheck {
  if (!ARN_RE.test(target.Arn)) {
    throw new EventsValidationException(`Parameter ${target.Arn} is not valid. Reason: Provided Arn is not in correct format.`);
  }
  if (target.Input !== undefined) {
    try {
      JSON.parse(target.Input);
    } catch {
      throw new EventsValidationException(`Input for target ${target.Id} is not a valid JSON text.`);
    }
  }
  if (target.InputPath !== undefined || target.InputTransformer !== undefined) {
    return failed(target, `Laminar does not support ${target.InputPath !== undefined ? 'InputPath' : 'InputTransformer'}: give the target a constant Input, or none to send the event.`);
  }
  const m = LAMBDA_RE.exec(target.Arn);
  if (!m) return failed(target, `Laminar delivers scheduled events to Lambda functions only: ${target.Arn} is not a Lambda function ARN.`);
  const [, region, account, functionName, qualifier] = m as unknown as [string, string, string, string, string | undefined];
  if (region !== p.region) return failed(target, `The function ${functionName} is in region ${region}; this Laminar serves ${p.region}.`);
  if (account !== p.accountId) return failed(target, `The function ${functionName} belongs to account ${account}; this Laminar serves account ${p.accountId}.`);
  return qualifier === undefined ? { ok: true, functionName } : { ok: true, functionName, qualifier };
}
