/**
 * Turns readings of one target's provisioned concurrency usage into what the policies read:
 * per-tick concurrency samples (Knative-style profile) and one utilization datapoint per period
 * (target tracking). No I/O and no clock: the loop passes each reading with its time.
 *
 * A reading is "active" when invocations advanced since the previous reading or an environment
 * is busy. A period whose readings are all inactive produces no datapoint: that is Lambda's
 * missing data (no invocations, no ProvisionedConcurrencyUtilization), which the alarms read as
 * INSUFFICIENT_DATA. Utilization is inUse / allocated; readings with nothing allocated yet
 * (config IN_PROGRESS) carry no utilization.
 */
import type { Datapoint } from './alarms.js';
import type { ConcurrencySample } from './knative-policy.js';
import type { ProvisionedUsage } from './port.js';

interface Accumulator {
  start: number;
  sum: number;
  count: number;
  max: number;
  active: boolean;
}

export class TargetSampler {
  private lastInvocations: number | undefined;
  private acc: Accumulator | undefined;
  private points: Datapoint[] = [];
  private ticks: ConcurrencySample[] = [];

  /**
   * @param periodMs length of one datapoint's period; periods are aligned on its multiples
   * @param keepPeriods datapoints kept (the longest alarm needs 15)
   * @param keepSamplesMs how long samples are kept (the longest stable window)
   */
  constructor(
    private readonly periodMs: number,
    private readonly keepPeriods = 20,
    private readonly keepSamplesMs = 60_000,
  ) {}

  get datapoints(): readonly Datapoint[] {
    return this.points;
  }

  get samples(): readonly ConcurrencySample[] {
    return this.ticks;
  }

  /** Records a reading taken at `at`; returns the datapoints of the periods it closed. */
  record(at: number, usage: ProvisionedUsage | undefined): Datapoint[] {
    const closed: Datapoint[] = [];
    // A reading at a boundary belongs to the period it ends, so the period closes on time.
    const start = Math.floor((at - 1) / this.periodMs) * this.periodMs;
    if (this.acc && this.acc.start !== start) this.close(closed);
    if (usage === undefined) {
      // No config, no usage: the next reading must not count the gap as activity.
      this.lastInvocations = undefined;
    } else {
      const advanced = this.lastInvocations !== undefined && usage.invocations > this.lastInvocations;
      this.lastInvocations = usage.invocations;
      const active = advanced || usage.inUse > 0;
      this.ticks.push({ at, inUse: usage.inUse, allocated: usage.allocated, active });
      this.ticks = this.ticks.filter((s) => s.at > at - this.keepSamplesMs);
      const acc = (this.acc ??= { start, sum: 0, count: 0, max: 0, active: false });
      acc.active ||= active;
      if (usage.allocated > 0) {
        const u = Math.min(1, usage.inUse / usage.allocated);
        acc.sum += u;
        acc.count += 1;
        acc.max = Math.max(acc.max, u);
      }
    }
    if (this.acc && at >= this.acc.start + this.periodMs) this.close(closed);
    return closed;
  }

  /** Forgets history, e.g. when the target is registered again. */
  reset(): void {
    this.lastInvocations = undefined;
    this.acc = undefined;
    this.points = [];
    this.ticks = [];
  }

  private close(closed: Datapoint[]): void {
    const acc = this.acc;
    this.acc = undefined;
    if (!acc || !acc.active || acc.count === 0) return;
    const point: Datapoint = { start: acc.start, average: acc.sum / acc.count, maximum: acc.max };
    closed.push(point);
    this.points.push(point);
    if (this.points.length > this.keepPeriods) this.points.shift();
  }
}
