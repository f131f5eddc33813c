/**
 * The EventBridge operations that schedule Lambda functions: rules on the default event bus with
 * a `rate()` or `cron()` ScheduleExpression (EventPattern rules are kept and answered but never
 * fire: no events flow through a bus here), and Lambda function targets. State is in
 * `schedules.db` (`RuleStore`); every change re-arms the rule in the runner, which fires it.
 */
import type { Partition } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import { parseScheduleExpression } from '../core/schedule-expression.js';
import type { SharedWrite } from '../core/shared-write.js';
import {
  EventsLimitExceededException,
  EventsResourceNotFoundException,
  EventsValidationException,
  InvalidEventPatternException,
} from './errors.js';
import { ruleArn } from './firing.js';
import type { RuleStore } from './rule-store.js';
import { ScheduleRunner, type ScheduleMetricsSink, type ScheduleTargetPort } from './runner.js';
import { checkTarget } from './targets.js';
import type {
  DeleteRuleInput,
  FailedEntry,
  ListRulesInput,
  ListTargetsByRuleInput,
  PutRuleInput,
  PutTargetsInput,
  RemoveTargetsInput,
  RuleRecord,
  RuleRef,
  RuleShape,
  TargetRecord,
  TargetShape,
} from './types.js';

/** EventBridge's quota of targets per rule. */
export const MAX_TARGETS_PER_RULE = 5;
const DEFAULT_BUS = 'default';
const PAGE = 100;

export interface SchedulesOptions {
  clock: Clock;
  store: RuleStore;
  partition: Partition;
  port: ScheduleTargetPort;
  metrics?: ScheduleMetricsSink;
  onError?: (err: unknown) => void;
  /** How the runner's wake-ups run; see `RunnerOptions.write`. */
  write?: SharedWrite;
}

export class Schedules {
  readonly runner: ScheduleRunner;
  private readonly store: RuleStore;
  private readonly p: Partition;

  constructor(private readonly o: SchedulesOptions) {
    this.store = o.store;
    this.p = o.partition;
    this.runner = new ScheduleRunner({
      clock: o.clock,
      store: o.store,
      partition: o.partition,
      port: o.port,
      ...(o.metrics ? { metrics: o.metrics } : {}),
      ...(o.onError ? { onError: o.onError } : {}),
      ...(o.write ? { write: o.write } : {}),
    });
  }

  /** Arms every enabled scheduled rule (from now: missed runs are not replayed). */
  start(): void {
    this.runner.start();
  }

  /** Stops firing (in a cluster, another node took over); `start` arms every rule again. */
  stop(): void {
    this.runner.stop();
  }

  /** Catches up with rules changed through another node of the cluster. */
  sync(): void {
    this.runner.sync();
  }

  close(): Promise<void> {
    return this.runner.close();
  }

  /** Resolves once every target a rule fired for has been handed to the event queue. */
  settled(): Promise<void> {
    return this.runner.settled();
  }

  // ---- rules ----

  /** `origin` marks the rule a folder's laminar.json makes (never sent by the API). */
  putRule(i: PutRuleInput, origin?: 'folder'): { RuleArn: string } {
    this.bus(i.EventBusName);
    if (i.ScheduleExpression === undefined && i.EventPattern === undefined) {
      throw new EventsValidationException('Parameter(s) EventPattern or ScheduleExpression must be specified.');
    }
    if (i.ScheduleExpression !== undefined && !parseScheduleExpression(i.ScheduleExpression, { kinds: ['rate', 'cron'] }).ok) {
      throw new EventsValidationException('Parameter ScheduleExpression is not valid.');
    }
    if (i.EventPattern !== undefined) checkEventPattern(i.EventPattern);
    const now = this.o.clock.now();
    const before = this.store.getRule(i.Name);
    const state = i.State ?? 'ENABLED';
    // PutRule replaces the rule (omitted members are cleared, as in AWS); its schedule restarts
    // only when it is new, changes, or comes back from DISABLED, so a repeated put keeps the cadence.
    const restarts =
      !before || before.scheduleExpression !== i.ScheduleExpression || (before.state === 'DISABLED' && state !== 'DISABLED');
    const rule: RuleRecord = {
      name: i.Name,
      state,
      anchorMs: restarts ? now : before.anchorMs,
      ...(i.ScheduleExpression !== undefined ? { scheduleExpression: i.ScheduleExpression } : {}),
      ...(i.EventPattern !== undefined ? { eventPattern: i.EventPattern } : {}),
      ...(i.Description !== undefined ? { description: i.Description } : {}),
      ...(i.RoleArn !== undefined ? { roleArn: i.RoleArn } : {}),
      ...(before?.lastFiredMs !== undefined ? { lastFiredMs: before.lastFiredMs } : {}),
      ...((origin ?? before?.origin) !== undefined ? { origin: origin ?? before?.origin } : {}),
    };
    this.store.putRule(rule);
    this.runner.changed(i.Name);
    return { RuleArn: ruleArn(this.p, i.Name) };
  }

  describeRule(i: RuleRef): RuleShape & { CreatedBy: string } {
    return { ...this.ruleShape(this.rule(i)), CreatedBy: this.p.accountId };
  }

  listRules(i: ListRulesInput): { Rules: RuleShape[]; NextToken?: string } {
    this.bus(i.EventBusName);
    const all = this.store.listRules().filter((r) => i.NamePrefix === undefined || r.name.startsWith(i.NamePrefix));
    const page = paginate(all, 'ListRules', i);
    return { Rules: page.items.map((r) => this.ruleShape(r)), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
  }

  enableRule(i: RuleRef): object {
    const rule = this.rule(i);
    if (rule.state === 'DISABLED') {
      // A rate() schedule counts from the moment it is enabled again.
      this.store.putRule({ ...rule, state: 'ENABLED', anchorMs: this.o.clock.now() });
      this.runner.changed(rule.name);
    }
    return {};
  }

  disableRule(i: RuleRef): object {
    const rule = this.rule(i);
    if (rule.state !== 'DISABLED') {
      this.store.putRule({ ...rule, state: 'DISABLED' });
      this.runner.changed(rule.name);
    }
    return {};
  }

  /** Deleting a rule that does not exist succeeds, as in EventBridge; one with targets is refused. */
  deleteRule(i: DeleteRuleInput): object {
    this.bus(i.EventBusName);
    const rule = this.store.getRule(i.Name);
    if (!rule) return {};
    if (this.store.listTargets(rule.name).length > 0) throw new EventsValidationException("Rule can't be deleted since it has targets.");
    this.store.deleteRule(rule.name);
    this.runner.changed(rule.name);
    return {};
  }

  // ---- targets ----

  putTargets(i: PutTargetsInput): { FailedEntryCount: number; FailedEntries: FailedEntry[] } {
    const rule = this.rule({ Name: i.Rule, ...(i.EventBusName !== undefined ? { EventBusName: i.EventBusName } : {}) });
    const failed: FailedEntry[] = [];
    const accepted = new Map<string, TargetRecord>();
    for (const t of i.Targets) {
      const checked = checkTarget(t, this.p);
      if (!checked.ok) {
        failed.push(checked.failed);
        continue;
      }
      // A repeated Id replaces the earlier one, in the request as in the rule.
      accepted.set(t.Id, {
        rule: rule.name,
        id: t.Id,
        arn: t.Arn,
        functionName: checked.functionName,
        ...(checked.qualifier !== undefined ? { qualifier: checked.qualifier } : {}),
        ...(t.Input !== undefined ? { input: t.Input } : {}),
        ...(t.RoleArn !== undefined ? { roleArn: t.RoleArn } : {}),
      });
    }
    const ids = new Set(this.store.listTargets(rule.name).map((t) => t.id));
    for (const id of accepted.keys()) ids.add(id);
    if (ids.size > MAX_TARGETS_PER_RULE) throw new EventsLimitExceededException('The requested resource exceeds the maximum number allowed.');
    this.store.putTargets([...accepted.values()]);
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }

  listTargetsByRule(i: ListTargetsByRuleInput): { Targets: TargetShape[]; NextToken?: string } {
    const rule = this.rule({ Name: i.Rule, ...(i.EventBusName !== undefined ? { EventBusName: i.EventBusName } : {}) });
    const page = paginate(this.store.listTargets(rule.name), `ListTargetsByRule.${rule.name}`, i);
    return { Targets: page.items.map(targetShape), ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
  }

  removeTargets(i: RemoveTargetsInput): { FailedEntryCount: number; FailedEntries: FailedEntry[] } {
    const rule = this.rule({ Name: i.Rule, ...(i.EventBusName !== undefined ? { EventBusName: i.EventBusName } : {}) });
    const removed = new Set(this.store.removeTargets(rule.name, i.Ids));
    const failed = [...new Set(i.Ids)]
      .filter((id) => !removed.has(id))
      .map((id) => ({ TargetId: id, ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Rule '${rule.name}' does not have a target with the Id '${id}'.` }));
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }

  // ---- a folder's laminar.json ----

  /**
   * Keeps the rule a folder's `LaminarSchedule` names in step for `serve --functions`: a rule
   * named after the function with the function as its one target (Id = the function name). An
   * unchanged schedule is left alone (its cadence and state, a DisableRule included); a folder
   * that no longer names one loses the rule it made, never a rule made through the API.
   */
  applyFolderSchedule(functionName: string, functionArn: string, expression: string | undefined): void {
    const existing = this.store.getRule(functionName);
    if (expression === undefined) {
      if (existing?.origin !== 'folder') return;
      this.store.removeTargets(functionName, this.store.listTargets(functionName).map((t) => t.id));
      this.deleteRule({ Name: functionName });
      return;
    }
    if (existing && existing.origin !== 'folder') {
      throw new EventsValidationException(
        `A rule named ${functionName} exists and was not made by laminar.json; delete it or remove LaminarSchedule.`,
      );
    }
    if (existing?.scheduleExpression !== expression) {
      const rule = { Name: functionName, ScheduleExpression: expression, State: existing?.state ?? 'ENABLED', Description: `LaminarSchedule of ${functionName}` };
      this.putRule(rule, 'folder');
    }
    const target = this.store.listTargets(functionName);
    if (target.length !== 1 || target[0]?.arn !== functionArn) {
      this.store.removeTargets(functionName, target.map((t) => t.id));
      this.putTargets({ Rule: functionName, Targets: [{ Id: functionName, Arn: functionArn }] });
    }
  }

  // ---- helpers ----

  /** Laminar serves the default event bus only (the one schedules run on). */
  private bus(name: string | undefined): void {
    if (name === undefined || name === DEFAULT_BUS || name === `arn:aws:events:${this.p.region}:${this.p.accountId}:event-bus/${DEFAULT_BUS}`) return;
    throw new EventsResourceNotFoundException(`Event bus ${name} does not exist.`);
  }

  private rule(i: RuleRef): RuleRecord {
    this.bus(i.EventBusName);
    const rule = this.store.getRule(i.Name);
    if (!rule) throw new EventsResourceNotFoundException(`Rule ${i.Name} does not exist on EventBus ${DEFAULT_BUS}.`);
    return rule;
  }

  private ruleShape(r: RuleRecord): RuleShape {
    return {
      Name: r.name,
      Arn: ruleArn(this.p, r.name),
      ...(r.eventPattern !== undefined ? { EventPattern: r.eventPattern } : {}),
      ...(r.scheduleExpression !== undefined ? { ScheduleExpression: r.scheduleExpression } : {}),
      State: r.state,
      ...(r.description !== undefined ? { Description: r.description } : {}),
      ...(r.roleArn !== undefined ? { RoleArn: r.roleArn } : {}),
      EventBusName: DEFAULT_BUS,
    };
  }
}

function targetShape(t: TargetRecord): TargetShape {
  return { Id: t.id, Arn: t.arn, ...(t.input !== undefined ? { Input: t.input } : {}), ...(t.roleArn !== undefined ? { RoleArn: t.roleArn } : {}) };
}

/** An EventPattern must be a JSON object; what it matches is not evaluated (no events flow here). */
function checkEventPattern(pattern: string): void {
  let parsed: unknown;
  try {
    parsed = JSON.parse(pattern);
  } catch (err) {
    throw new InvalidEventPatternException(`Event pattern is not valid. Reason: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InvalidEventPatternException('Event pattern is not valid. Reason: Filter is not an object');
  }
}

/** Limit / NextToken paging; the token is the operation and the offset of the next item, so another operation's token is refused. */
function paginate<T>(all: readonly T[], op: string, o: { NextToken?: string; Limit?: number }): { items: T[]; nextToken?: string } {
  let start = 0;
  if (o.NextToken !== undefined) {
    const decoded = Buffer.from(o.NextToken, 'base64url').toString('utf8');
    const sep = decoded.lastIndexOf(':');
    const offset = Number(decoded.slice(sep + 1));
    if (sep < 0 || decoded.slice(0, sep) !== op || !Number.isInteger(offset) || offset < 0) {
      throw new EventsValidationException('The NextToken provided is not valid.');
    }
    start = offset;
  }
  const max = o.Limit ?? PAGE;
  const items = all.slice(start, start + max);
  const next = start + max;
  return next < all.length ? { items, nextToken: Buffer.from(`${op}:${next}`, 'utf8').toString('base64url') } : { items };
}
