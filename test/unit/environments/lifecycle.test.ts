import { describe, expect, it } from 'vitest';
import { initTimeoutMs, invocationBudgetMs, Lifecycle, nextState, type EnvironmentState, type LifecycleEvent } from '../../../src/environments/lifecycle.js';

const STATES: EnvironmentState[] = ['new', 'initializing', 'ready', 'busy', 'failed', 'dead', 'destroyed'];
const EVENTS: LifecycleEvent[] = ['init', 'init-ok', 'init-failed', 'invoke', 'invoke-done', 'died', 'destroy'];

describe('environment lifecycle', () => {
  it('follows Init once, then one invocation at a time', () => {
    const walk = (events: LifecycleEvent[]) => events.reduce<EnvironmentState | undefined>((s, e) => (s ? nextState(s, e) : undefined), 'new');
    expect(walk(['init', 'init-ok', 'invoke', 'invoke-done', 'invoke', 'invoke-done'])).toBe('ready');
    expect(walk(['init', 'init-failed'])).toBe('failed');
    expect(walk(['init', 'died', 'init-failed'])).toBe('failed');
    expect(walk(['init', 'init-ok', 'invoke', 'died'])).toBe('dead');
  });

  it('refuses what the state does not allow, and never brings an environment back', () => {
    expect(nextState('busy', 'invoke')).toBeUndefined();
    expect(nextState('initializing', 'invoke')).toBeUndefined();
    expect(nextState('ready', 'init')).toBeUndefined();
    for (const from of ['failed', 'dead', 'destroyed'] as const) {
      for (const e of ['init', 'init-ok', 'invoke', 'invoke-done'] as const) expect(nextState(from, e)).toBeUndefined();
    }
  });

  it('destroy is final from anywhere', () => {
    for (const s of STATES) expect(nextState(s, 'destroy')).toBe('destroyed');
    for (const e of EVENTS.filter((x) => x !== 'destroy')) expect(nextState('destroyed', e)).toBeUndefined();
  });

  it('bounds Init as Lambda does', () => {
    expect(initTimeoutMs({ initializationType: 'on-demand', timeoutSeconds: 3 })).toBe(10_000);
    expect(initTimeoutMs({ initializationType: 'on-demand', timeoutSeconds: 60 })).toBe(60_000);
    expect(initTimeoutMs({ initializationType: 'provisioned-concurrency', timeoutSeconds: 3 })).toBe(130_000);
  });

  it('runs an invocation until its absolute deadline, or its full timeout when the deadline is not real time', () => {
    expect(invocationBudgetMs(1_000 + 2_500, 3, 1_000)).toBe(2_500);
    expect(invocationBudgetMs(1_000 + 9_000, 3, 1_000)).toBe(3_000);
    expect(invocationBudgetMs(500, 3, 1_000)).toBe(3_000);
  });
});

describe('Lifecycle', () => {
  it('holds the state and changes it only through allowed events', () => {
    const life = new Lifecycle();
    expect(life.state).toBe('new');
    expect(life.move('invoke')).toBe(false);
    expect(life.state).toBe('new');
    expect(life.move('init') && life.move('init-ok') && life.move('invoke')).toBe(true);
    expect(life.state).toBe('busy');
    expect(life.move('destroy')).toBe(true);
    expect(life.move('invoke-done')).toBe(false);
    expect(life.state).toBe('destroyed');
  });
});
