/**
 * The request shapes of the EventBridge actions Laminar serves (awsJson1_1), with the AWS
 * model's constraints, checked by the same compiled validator as the other APIs
 * (`core/shape.ts`): a member of the wrong JSON type is a SerializationException, broken
 * constraints one ValidationException in AWS's words
 * (`Value '…' at 'targets.1.member.id' failed to satisfy constraint: …`).
 */
import { validationMessage } from '../core/errors.js';
import { bool, compileShape, int, list, str, struct, type ShapeCheck } from '../core/shape.js';
import { EventsSerializationException, EventsValidationException } from './errors.js';
import {
  RULE_STATES,
  type DeleteRuleInput,
  type ListRulesInput,
  type ListTargetsByRuleInput,
  type PutRuleInput,
  type PutTargetsInput,
  type RemoveTargetsInput,
  type RuleRef,
} from './types.js';

const NAME_PATTERN = '[\\.\\-_A-Za-z0-9]+';
const ruleName = str({ min: 1, max: 64, pattern: NAME_PATTERN });
const eventBus = str({ min: 1, max: 1600, pattern: '(arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[\\/\\.\\-_A-Za-z0-9]+' });
const nextToken = str({ min: 1, max: 2048 });
const limit = int({ min: 1, max: 100 });
const roleArn = str({ min: 1, max: 1600 });
const ruleRef = { Name: ruleName, EventBusName: eventBus };

const target = struct(
  {
    Id: str({ min: 1, max: 64, pattern: NAME_PATTERN }),
    Arn: str({ min: 1, max: 1600 }),
    RoleArn: roleArn,
    Input: str({ max: 8192 }),
    // Read so the service can refuse them by name.
    InputPath: str({ max: 256 }),
    InputTransformer: { type: 'object' },
  },
  ['Id', 'Arn'],
);

export const SHAPES = {
  PutRule: struct(
    {
      ...ruleRef,
      ScheduleExpression: str({ max: 256 }),
      EventPattern: str(),
      State: str({ enum: RULE_STATES }),
      Description: str({ max: 512 }),
      RoleArn: roleArn,
      Tags: list(struct({ Key: str({ min: 1, max: 128 }), Value: str({ max: 256 }) }, ['Key', 'Value'])),
    },
    ['Name'],
  ),
  DescribeRule: struct(ruleRef, ['Name']),
  ListRules: struct({ NamePrefix: ruleName, EventBusName: eventBus, NextToken: nextToken, Limit: limit }),
  EnableRule: struct(ruleRef, ['Name']),
  DisableRule: struct(ruleRef, ['Name']),
  DeleteRule: struct({ ...ruleRef, Force: bool }, ['Name']),
  PutTargets: struct({ Rule: ruleName, EventBusName: eventBus, Targets: list(target, { min: 1 }) }, ['Rule', 'Targets']),
  ListTargetsByRule: struct({ Rule: ruleName, EventBusName: eventBus, NextToken: nextToken, Limit: limit }, ['Rule']),
  RemoveTargets: struct(
    { Rule: ruleName, EventBusName: eventBus, Ids: list(str({ min: 1, max: 64, pattern: NAME_PATTERN }), { min: 1, max: 100 }), Force: bool },
    ['Rule', 'Ids'],
  ),
} as const;

export type EventsOperation = keyof typeof SHAPES;

/** What each action reads, once its shape has checked the body. */
export interface EventsInputs {
  PutRule: PutRuleInput;
  DescribeRule: RuleRef;
  ListRules: ListRulesInput;
  EnableRule: RuleRef;
  DisableRule: RuleRef;
  DeleteRule: DeleteRuleInput;
  PutTargets: PutTargetsInput;
  ListTargetsByRule: ListTargetsByRuleInput;
  RemoveTargets: RemoveTargetsInput;
}

const checks = new Map<string, ShapeCheck>(Object.entries(SHAPES).map(([op, shape]) => [op, compileShape(shape)]));

/** Checks an action's body against its shape and returns its typed input; throws this protocol's errors. */
export function readRequest<K extends EventsOperation>(op: K, body: unknown): EventsInputs[K] {
  const out = (checks.get(op) as ShapeCheck)(body);
  if (!out.ok) {
    if (out.kind === 'type') throw new EventsSerializationException(out.message);
    throw new EventsValidationException(validationMessage(out.violations));
  }
  return out.value as EventsInputs[K];
}
