/**
 * Identifiers and ARNs of Application Auto Scaling objects. Ids come from an injectable random
 * source so tests can pin them; without one, node:crypto's UUIDs are used.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Partition } from '../core/arn.js';

export interface IdSource {
  uuid(): string;
  /** `n` lowercase hex digits. */
  hex(n: number): string;
}

export function idSource(random?: () => number): IdSource {
  if (!random) return { uuid: () => randomUUID(), hex: (n) => randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n) };
  const hex = (n: number) => {
    let s = '';
    for (let i = 0; i < n; i++) s += Math.floor(random() * 16).toString(16);
    return s;
  };
  return {
    hex,
    uuid: () => {
      const h = hex(32);
      const variant = ((parseInt(h[16] as string, 16) & 0x3) | 0x8).toString(16);
      return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
    },
  };
}

export function scalableTargetArn(p: Partition, id: string): string {
  return `arn:aws:application-autoscaling:${p.region}:${p.accountId}:scalable-target/${id}`;
}

/** The service-linked role AWS uses for Lambda provisioned concurrency. */
export function lambdaServiceRoleArn(p: Partition): string {
  return (
    `arn:aws:iam::${p.accountId}:role/aws-service-role/lambda.application-autoscaling.amazonaws.com/` +
    'AWSServiceRoleForApplicationAutoScaling_LambdaConcurrency'
  );
}

export function scalingPolicyArn(p: Partition, uuid: string, resourceId: string, policyName: string): string {
  return `arn:aws:autoscaling:${p.region}:${p.accountId}:scalingPolicy:${uuid}:resource/lambda/${resourceId}:policyName/${policyName}`;
}

export function scheduledActionArn(p: Partition, uuid: string, resourceId: string, name: string): string {
  return `arn:aws:autoscaling:${p.region}:${p.accountId}:scheduledAction:${uuid}:resource/lambda/${resourceId}:scheduledActionName/${name}`;
}

export function alarmArn(p: Partition, alarmName: string): string {
  return `arn:aws:cloudwatch:${p.region}:${p.accountId}:alarm:${alarmName}`;
}

/** `TargetTracking-function:<fn>:<q>-AlarmHigh-<uuid>`, as AWS names the alarms it creates. */
export function alarmName(resourceId: string, kind: 'AlarmHigh' | 'AlarmLow', uuid: string): string {
  return `TargetTracking-${resourceId}-${kind}-${uuid}`;
}
