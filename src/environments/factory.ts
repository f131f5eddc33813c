/**
 * Which kind of environment runs a function. A custom runtime (`provided.*`) is a `bootstrap`
 * executable on the Lambda Runtime API, so it runs as a process; Node.js functions run in a
 * worker thread.
 */
import type { EnvironmentFactory, EnvironmentSpec } from './environment.js';

export interface EnvironmentKinds {
  thread: EnvironmentFactory;
  process: EnvironmentFactory;
}

export function runsAsProcess(spec: Pick<EnvironmentSpec, 'runtime'>): boolean {
  return spec.runtime.startsWith('provided');
}

/** One factory for the scheduler that builds each environment with the kind its function needs. */
export function environmentFactory(kinds: EnvironmentKinds): EnvironmentFactory {
  return (id, spec) => (runsAsProcess(spec) ? kinds.process(id, spec) : kinds.thread(id, spec));
}
