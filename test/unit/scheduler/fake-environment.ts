/**
 * An in-memory execution environment whose Init and invocations the test controls, and the
 * factory the scheduler builds them with. Invocations end at once with a success naming the
 * environment, unless the test holds them; a held one ends when the test finishes it, fails it
 * or lets the environment die in it.
 */
import type { EnvironmentFactory, EnvironmentSpec, ExecutionEnvironment, InitResult, InvokeOutcome, InvokeRequest } from '../../../src/environments/environment.js';

export interface HeldInvocation {
  readonly env: FakeEnvironment;
  readonly request: InvokeRequest;
  /** Ends it successfully, or with the fields given. */
  finish(outcome?: Partial<InvokeOutcome>): void;
  /** The environment dies in it: Runtime.ExitError, never reused. */
  die(): void;
  /** The environment's invoke rejects: a platform fault the scheduler must contain. */
  reject(err: Error): void;
}

export class FakeEnvironment implements ExecutionEnvironment {
  invocations = 0;
  destroyed = false;

  constructor(
    readonly id: string,
    readonly spec: EnvironmentSpec,
    private readonly host: FakeEnvironments,
  ) {}

  init(): Promise<InitResult> {
    return this.host.initWith(this);
  }

  invoke(request: InvokeRequest): Promise<InvokeOutcome> {
    this.invocations++;
    const success = (): InvokeOutcome => ({
      status: 'success',
      payload: Buffer.from(JSON.stringify({ env: this.id, invocation: this.invocations })),
      durationMs: 2.5,
      maxMemoryUsedMb: 40,
      logs: `${request.requestId} handler ran\n`,
      environmentDead: false,
    });
    if (!this.host.holding) return Promise.resolve(success());
    return new Promise<InvokeOutcome>((resolve, reject) => {
      this.host.hold({
        env: this,
        request,
        finish: (outcome = {}) => resolve({ ...success(), ...outcome }),
        die: () =>
          resolve({
            status: 'crash',
            payload: Buffer.from(JSON.stringify({ errorType: 'Runtime.ExitError', errorMessage: 'Runtime exited with error: exit status 1' })),
            errorType: 'Runtime.ExitError',
            durationMs: 3,
            maxMemoryUsedMb: 40,
            logs: '',
            environmentDead: true,
          }),
        reject,
      });
    });
  }

  async destroy(): Promise<void> {
    this.destroyed = true;
  }
}

export class FakeEnvironments {
  /** Every environment built, in order. */
  readonly built: FakeEnvironment[] = [];
  /** Held invocations not yet ended, oldest first. */
  readonly held: HeldInvocation[] = [];
  /** While true, invocations wait for the test to end them. */
  holding = false;
  /** What Init returns (succeeds in 12.5 ms of reported time by default). */
  initResult: (env: FakeEnvironment) => InitResult = () => ({ ok: true, initDurationMs: 12.5, logs: 'init ran\n' });
  private waiters: (() => void)[] = [];

  readonly factory: EnvironmentFactory = (id, spec) => {
    const env = new FakeEnvironment(id, spec, this);
    this.built.push(env);
    return env;
  };

  async initWith(env: FakeEnvironment): Promise<InitResult> {
    return this.initResult(env);
  }

  hold(invocation: HeldInvocation): void {
    this.held.push(invocation);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once `n` invocations are held (they reached their environment). */
  async heldCount(n: number): Promise<HeldInvocation[]> {
    while (this.held.length < n) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return this.held.slice(0, n);
  }

  /** Takes the oldest held invocation out of the list. */
  take(): HeldInvocation {
    const h = this.held.shift();
    if (!h) throw new Error('no held invocation');
    return h;
  }

  /** Environments not destroyed. */
  live(): FakeEnvironment[] {
    return this.built.filter((e) => !e.destroyed);
  }
}
