/**
 * What Laminar keeps of EventBridge rules and targets, and the shapes the API answers with.
 * Records are Laminar's own (camelCase, times in epoch ms); `service.ts` maps them to AWS's shapes.
 */

/** AWS's RuleState enum, in the model's order. */
export const RULE_STATES = ['DISABLED', 'ENABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS'] as const;
export type RuleState = (typeof RULE_STATES)[number];

export interface RuleRecord {
  name: string;
  scheduleExpression?: string;
  /** Stored and answered as given; pattern rules never fire (Laminar has no event bus traffic). */
  eventPattern?: string;
  state: RuleState;
  description?: string;
  roleArn?: string;
  /**
   * When the rule's schedule began: created, enabled again after DISABLED, or given a new
   * expression. rate() runs are counted from here.
   */
  anchorMs: number;
  /** The last scheduled instant the rule fired for: never fired again, across restarts too. */
  lastFiredMs?: number;
  /** Set on the rule a folder's `laminar.json` made (`LaminarSchedule`), which `serve --functions` keeps in step. */
  origin?: 'folder';
}

export interface TargetRecord {
  rule: string;
  id: string;
  arn: string;
  /** The Lambda function the ARN names, and its qualifier when it has one. */
  functionName: string;
  qualifier?: string;
  /** Constant JSON text sent instead of the event. */
  input?: string;
  roleArn?: string;
}

/** A rule as DescribeRule and ListRules answer it. */
export interface RuleShape {
  Name: string;
  Arn: string;
  EventPattern?: string;
  ScheduleExpression?: string;
  State: RuleState;
  Description?: string;
  RoleArn?: string;
  EventBusName: string;
}

export interface TargetShape {
  Id: string;
  Arn: string;
  Input?: string;
  RoleArn?: string;
}

export interface FailedEntry {
  TargetId: string;
  ErrorCode: string;
  ErrorMessage: string;
}

// ---- inputs, as the request shapes (`shapes.ts`) let them through ----

export interface RuleRef {
  Name: string;
  EventBusName?: string;
}

export interface PutRuleInput extends RuleRef {
  ScheduleExpression?: string;
  EventPattern?: string;
  State?: RuleState;
  Description?: string;
  RoleArn?: string;
  Tags?: { Key: string; Value: string }[];
}

export interface DeleteRuleInput extends RuleRef {
  Force?: boolean;
}

export interface ListRulesInput {
  NamePrefix?: string;
  EventBusName?: string;
  NextToken?: string;
  Limit?: number;
}

export interface TargetInput {
  Id: string;
  Arn: string;
  Input?: string;
  RoleArn?: string;
  InputPath?: string;
  InputTransformer?: object;
}

export interface PutTargetsInput {
  Rule: string;
  EventBusName?: string;
  Targets: TargetInput[];
}

export interface ListTargetsByRuleInput {
  Rule: string;
  EventBusName?: string;
  NextToken?: string;
  Limit?: number;
}

export interface RemoveTargetsInput {
  Rule: string;
  EventBusName?: string;
  Ids: string[];
  Force?: boolean;
}
