/**
 * PutScalingPolicy's meaning: which policy types and metrics Laminar can track for a Lambda
 * target, and the stored record they become. Target tracking must track the target's own
 * provisioned concurrency utilization (predefined, or customized with Average or Maximum), since
 * that is the only metric the loop can read.
 */
import type { Partition } from '../core/arn.js';
import type { CustomizedMetricShape, PutScalingPolicyInput, TargetTrackingConfigurationShape } from './api-shapes.js';
import { ScalingValidationException } from './errors.js';
import { alarmArn, alarmName, scalingPolicyArn, type IdSource } from './ids.js';
import type { ParsedTarget } from './identity.js';
import {
  CUSTOM_METRIC_NAME,
  CUSTOM_METRIC_NAMESPACE,
  PREDEFINED_METRIC,
  type KnativeSettings,
  type MetricSpecification,
  type PolicyType,
  type ScalingPolicyRecord,
} from './types.js';

export const TARGET_VALUE_RANGE = { min: 0.1, max: 0.9 } as const;

const fail = (message: string) => new ScalingValidationException(message);

function policyType(input: PutScalingPolicyInput): PolicyType {
  const type = input.PolicyType ?? (input.TargetTrackingScalingPolicyConfiguration ? 'TargetTrackingScaling' : 'StepScaling');
  switch (type) {
    case 'TargetTrackingScaling':
    case 'LaminarKnativeScaling':
      return type;
    case 'StepScaling':
      throw fail(
        'StepScaling policies are not supported for service namespace lambda in Laminar (they need CloudWatch alarms, which Laminar does not have): ' +
          'use PolicyType TargetTrackingScaling with TargetTrackingScalingPolicyConfiguration.',
      );
    case 'PredictiveScaling':
      throw fail('PredictiveScaling is not supported for service namespace lambda: use PolicyType TargetTrackingScaling.');
    default:
      throw fail(`Unsupported PolicyType '${type}': use TargetTrackingScaling, or LaminarKnativeScaling for Laminar's faster Knative-style profile.`);
  }
}

function customizedMetric(c: CustomizedMetricShape, target: ParsedTarget): MetricSpecification {
  const resource = `${target.functionName}:${target.qualifier}`;
  if (c.Metrics !== undefined) throw fail('Metric math (CustomizedMetricSpecification.Metrics) is not supported: use MetricName, Namespace, Dimensions and Statistic.');
  if (c.MetricName !== CUSTOM_METRIC_NAME || c.Namespace !== CUSTOM_METRIC_NAMESPACE) {
    throw fail(
      `Unsupported metric ${c.Namespace ?? '(no namespace)'} ${c.MetricName ?? '(no name)'}: Laminar tracks MetricName '${CUSTOM_METRIC_NAME}' ` +
        `in Namespace '${CUSTOM_METRIC_NAMESPACE}'.`,
    );
  }
  if (c.Statistic !== 'Average' && c.Statistic !== 'Maximum') {
    throw fail(`Unsupported Statistic '${c.Statistic ?? ''}' for ${CUSTOM_METRIC_NAME}: use Maximum (for bursty functions) or Average.`);
  }
  const dims = new Map((c.Dimensions ?? []).map((d) => [d.Name, d.Value]));
  if (dims.size !== 2 || dims.get('FunctionName') !== target.functionName || dims.get('Resource') !== resource) {
    throw fail(
      `The metric must be the scalable target's own utilization: use Dimensions [{Name: FunctionName, Value: ${target.functionName}}, ` +
        `{Name: Resource, Value: ${resource}}].`,
    );
  }
  const metric: MetricSpecification = {
    kind: 'customized',
    MetricName: CUSTOM_METRIC_NAME,
    Namespace: CUSTOM_METRIC_NAMESPACE,
    Dimensions: c.Dimensions ?? [],
    Statistic: c.Statistic,
  };
  if (c.Unit !== undefined) metric.Unit = c.Unit;
  return metric;
}

function metricOf(config: TargetTrackingConfigurationShape, target: ParsedTarget, required: boolean): MetricSpecification | undefined {
  const predefined = config.PredefinedMetricSpecification;
  const customized = config.CustomizedMetricSpecification;
  if (predefined && customized) throw fail('Specify either PredefinedMetricSpecification or CustomizedMetricSpecification, not both.');
  if (predefined) {
    if (predefined.PredefinedMetricType !== PREDEFINED_METRIC) {
      throw fail(`Unsupported PredefinedMetricType '${predefined.PredefinedMetricType}' for service namespace lambda: use '${PREDEFINED_METRIC}'.`);
    }
    return { kind: 'predefined', ...predefined };
  }
  if (customized) return customizedMetric(customized, target);
  if (required) {
    throw fail(`Specify PredefinedMetricSpecification {PredefinedMetricType: ${PREDEFINED_METRIC}} or a CustomizedMetricSpecification.`);
  }
  return undefined;
}

function knativeSettings(input: PutScalingPolicyInput, periodMs: number): KnativeSettings {
  const k = input.LaminarKnativeConfiguration ?? {};
  return {
    StableWindowSeconds: k.StableWindowSeconds ?? Math.min(3600, Math.max(6, periodMs / 1000)),
    PanicWindowPercentage: k.PanicWindowPercentage ?? 10,
    PanicThresholdPercentage: k.PanicThresholdPercentage ?? 200,
    MaxScaleUpRate: k.MaxScaleUpRate ?? 1000,
    MaxScaleDownRate: k.MaxScaleDownRate ?? 2,
  };
}

export interface PolicyContext {
  partition: Partition;
  ids: IdSource;
  periodMs: number;
  now: number;
}

/** Validates a PutScalingPolicy request and builds the record (keeping ARN and alarms on update). */
export function buildPolicy(
  input: PutScalingPolicyInput,
  target: ParsedTarget,
  existing: ScalingPolicyRecord | undefined,
  ctx: PolicyContext,
): ScalingPolicyRecord {
  const type = policyType(input);
  if (input.StepScalingPolicyConfiguration !== undefined || input.PredictiveScalingPolicyConfiguration !== undefined) {
    throw fail(`Only TargetTrackingScalingPolicyConfiguration can be given with PolicyType ${type}.`);
  }
  const config = input.TargetTrackingScalingPolicyConfiguration;
  if (!config) throw fail(`TargetTrackingScalingPolicyConfiguration is required for PolicyType ${type}.`);
  if (type === 'TargetTrackingScaling' && input.LaminarKnativeConfiguration !== undefined) {
    throw fail('LaminarKnativeConfiguration applies only to PolicyType LaminarKnativeScaling.');
  }
  const { min, max } = TARGET_VALUE_RANGE;
  if (!(config.TargetValue >= min && config.TargetValue <= max)) {
    throw fail(`TargetValue ${config.TargetValue} is out of range for ${PREDEFINED_METRIC}: use a value from ${min} to ${max} (0.7 is typical).`);
  }
  const metric = metricOf(config, target, type === 'TargetTrackingScaling');

  let alarms = existing?.alarms;
  if (type === 'TargetTrackingScaling' && !alarms) {
    const high = alarmName(target.resourceId, 'AlarmHigh', ctx.ids.uuid());
    const low = alarmName(target.resourceId, 'AlarmLow', ctx.ids.uuid());
    alarms = {
      high: { AlarmName: high, AlarmARN: alarmArn(ctx.partition, high) },
      low: { AlarmName: low, AlarmARN: alarmArn(ctx.partition, low) },
    };
  }
  return {
    resourceId: target.resourceId,
    name: input.PolicyName,
    type,
    arn: existing?.arn ?? scalingPolicyArn(ctx.partition, ctx.ids.uuid(), target.resourceId, input.PolicyName),
    targetValue: config.TargetValue,
    metric,
    scaleOutCooldownSeconds: config.ScaleOutCooldown,
    scaleInCooldownSeconds: config.ScaleInCooldown,
    disableScaleIn: config.DisableScaleIn,
    knative: type === 'LaminarKnativeScaling' ? knativeSettings(input, ctx.periodMs) : undefined,
    alarms: type === 'TargetTrackingScaling' ? alarms : undefined,
    createdAt: existing?.createdAt ?? ctx.now,
  };
}
