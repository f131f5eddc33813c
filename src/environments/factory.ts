/**
 * Which kind of environment runs a function. A custom runtime (`provided.*`) is a `bootstrap`
 * executable on the Lambda Runtime API, so it runs as a process; a Node.js function runs
 * Laminar's Node.js runtime in a worker thread, or in a process of its own when its isolation
 * (the `laminar:isolation` tag, else the server's `isolation`) says `process`.
 */
import type { EnvironmentFactory, EnvironmentSpec } from './environment.js';

export interface EnvironmentKinds {
  thread: EnvironmentFactory;
  /** Custom runtimes on the Runtime API. */
  process: EnvironmentFactory;
  /** Laminar's Node.js runtime in a child process. */
  nodeProcess: EnvironmentFactory;
}

export function runsAsProcess(spec: Pick<EnvironmentSpec, 'runtime'>): boolean {
  return spec.runtime.startsWith('provided');
}

/** One factory for the scheduler that builds each environment with the kind its function needs. */
export function environmentFactory(kinds: EnvironmentKinds): EnvironmentFactory {
  return (id, spec) => {
    if (runsAsProcess(spec)) return kinds.process(id, spec);
    return spec.isolation === 'process' ? kinds.nodeProcess(id, spec) : kinds.thread(id, spec);
  };
}
