/** Table tests for the keep-alive decision at the end of an invocation. */
import { describe, expect, it } from 'vitest';
import { keepAlive, type AfterInvocation, type KeepAlive } from '../../../src/scheduler/keep-alive.js';

const NOW = 1_000_000;
const IDLE_MS = 300_000;
const base: AfterInvocation = { kind: 'on-demand', died: false, poolRetired: false, retiring: false, closing: false, now: NOW, idleTimeoutMs: IDLE_MS };

describe('keepAlive', () => {
  const cases: { name: string; given: Partial<AfterInvocation>; expected: KeepAlive }[] = [
    { name: 'an on-demand environment idles until exactly the idle timeout', given: {}, expected: { kind: 'idle', expiresAt: NOW + IDLE_MS } },
    { name: 'a provisioned environment idles with no expiry (pinned)', given: { kind: 'provisioned' }, expected: { kind: 'idle' } },
    { name: 'an on-demand environment that died is destroyed as failed', given: { died: true }, expected: { kind: 'destroy', reason: 'failed', replaceProvisioned: false } },
    { name: 'a provisioned environment that died is destroyed and replaced', given: { kind: 'provisioned', died: true }, expected: { kind: 'destroy', reason: 'failed', replaceProvisioned: true } },
    { name: 'an environment of a retired pool is destroyed as retired', given: { poolRetired: true }, expected: { kind: 'destroy', reason: 'retired', replaceProvisioned: false } },
    {
      name: 'a provisioned environment of a retired pool is replaced in the new pool',
      given: { kind: 'provisioned', poolRetired: true },
      expected: { kind: 'destroy', reason: 'retired', replaceProvisioned: true },
    },
    {
      name: 'a provisioned environment its config let go is destroyed and not replaced',
      given: { kind: 'provisioned', retiring: true },
      expected: { kind: 'destroy', reason: 'retired', replaceProvisioned: false },
    },
    { name: 'during shutdown every environment is destroyed', given: { closing: true }, expected: { kind: 'destroy', reason: 'shutdown', replaceProvisioned: false } },
    {
      name: 'during shutdown a provisioned environment is not replaced',
      given: { kind: 'provisioned', closing: true, poolRetired: true },
      expected: { kind: 'destroy', reason: 'shutdown', replaceProvisioned: false },
    },
    { name: 'death outranks shutdown as the reason', given: { died: true, closing: true }, expected: { kind: 'destroy', reason: 'failed', replaceProvisioned: false } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(keepAlive({ ...base, ...c.given })).toEqual(c.expected);
    });
  }
});
