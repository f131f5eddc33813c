/**
 * Keeps the parent group's CPU weight in step with the environments in it (see
 * `parentCpuWeight`). Writes are chained so that they land in the order the count changed, and
 * each writes the count as it is when it runs: the last write always leaves the current count.
 */
import { parentCpuWeight } from './cgroup-limits.js';
import { writeControl } from './cgroup-files.js';

export class ParentCpuWeight {
  private live = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly file: string,
    private readonly version: 'v1' | 'v2',
  ) {}

  /** An environment's group was created; resolves once the weight counts it. */
  added(): Promise<void> {
    this.live++;
    return this.write();
  }

  /** An environment's group was removed. */
  removed(): Promise<void> {
    this.live = Math.max(0, this.live - 1);
    return this.write();
  }

  private write(): Promise<void> {
    // A weight that cannot be written costs fairness, not correctness: the groups keep their limits.
    this.chain = this.chain.then(() => writeControl(this.file, String(parentCpuWeight(this.version, this.live))).catch(() => undefined));
    return this.chain;
  }
}
