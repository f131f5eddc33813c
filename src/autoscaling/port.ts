/**
 * What autoscaling needs from the scheduler, and nothing more: read a provisioned concurrency
 * config and its usage, and change it through the same code path as
 * PutProvisionedConcurrencyConfig.
 */

export type ProvisionedStatus = 'IN_PROGRESS' | 'READY' | 'FAILED';

export interface ProvisionedConfigView {
  requested: number;
  allocated: number;
  status: ProvisionedStatus;
}

export interface ProvisionedUsage {
  /** Provisioned environments that finished Init and are usable. */
  allocated: number;
  /** Provisioned environments busy with an invocation right now. */
  inUse: number;
  /** Invocations served on this qualifier so far (provisioned or spillover); monotonic. */
  invocations: number;
}

export interface ProvisionedConcurrencyPort {
  /** Sets the requested provisioned concurrency; throws Lambda's errors exactly as the API would. */
  put(functionName: string, qualifier: string, requested: number): void;
  /** Removes the config (scale to zero is a delete in Lambda). */
  delete(functionName: string, qualifier: string): void;
  get(functionName: string, qualifier: string): ProvisionedConfigView | undefined;
  /** Current usage, or undefined when the qualifier has no provisioned concurrency config. */
  usage(functionName: string, qualifier: string): ProvisionedUsage | undefined;
}
