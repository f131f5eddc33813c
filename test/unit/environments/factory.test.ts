import { describe, expect, it } from 'vitest';
import type { EnvironmentFactory, ExecutionEnvironment } from '../../../src/environments/environment.js';
import { environmentFactory } from '../../../src/environments/factory.js';
import { fixtureSpec } from './helpers.js';

describe('environmentFactory', () => {
  const made: string[] = [];
  const kind = (name: string): EnvironmentFactory => (id) => {
    made.push(name);
    return { id } as unknown as ExecutionEnvironment;
  };
  const factory = environmentFactory({ thread: kind('thread'), process: kind('process'), nodeProcess: kind('nodeProcess') });

  it('runs custom runtimes as processes, Node.js by its isolation (thread when unset)', () => {
    made.length = 0;
    factory('a', fixtureSpec('echo'));
    factory('b', fixtureSpec('echo', { isolation: 'thread' }));
    factory('c', fixtureSpec('echo', { isolation: 'process' }));
    factory('d', fixtureSpec('custom-sh', { runtime: 'provided.al2023' }));
    factory('e', fixtureSpec('custom-sh', { runtime: 'provided.al2', isolation: 'thread' }));
    expect(made).toEqual(['thread', 'thread', 'nodeProcess', 'process', 'process']);
  });
});
