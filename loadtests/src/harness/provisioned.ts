/**
 * Provisioned concurrency through the Lambda API (PutProvisionedConcurrencyConfig, then
 * GetProvisionedConcurrencyConfig until READY). A server that does not serve these operations yet
 * answers 404 UnknownOperationException, which skips the scenario instead of failing it.
 */
import { performance } from 'node:perf_hooks';
import { GetProvisionedConcurrencyConfigCommand, PutProvisionedConcurrencyConfigCommand } from '@aws-sdk/client-lambda';
import type { LaminarServer } from './laminar.js';
import { promValue, type Probe } from './prom.js';
import { isUnknownOperation, ScenarioSkipped } from './result.js';

export const PC_UNAVAILABLE = 'skipped: provisioned concurrency not available (PutProvisionedConcurrencyConfig answered UnknownOperationException)';

export interface PcStatus {
  requested: number;
  allocated: number;
  available: number;
  status: string;
}

export async function getProvisioned(server: LaminarServer, fn: string, qualifier: string): Promise<PcStatus> {
  const out = await server.lambda.send(new GetProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: qualifier }));
  return {
    requested: out.RequestedProvisionedConcurrentExecutions ?? 0,
    allocated: out.AllocatedProvisionedConcurrentExecutions ?? 0,
    available: out.AvailableProvisionedConcurrentExecutions ?? 0,
    status: out.Status ?? 'UNKNOWN',
  };
}

/** Puts `count` provisioned environments on `fn:qualifier` and waits for READY; returns the seconds it took. */
export async function provisionAndWait(server: LaminarServer, fn: string, qualifier: string, count: number, timeoutMs = 60_000): Promise<number> {
  const t0 = performance.now();
  try {
    await server.lambda.send(new PutProvisionedConcurrencyConfigCommand({ FunctionName: fn, Qualifier: qualifier, ProvisionedConcurrentExecutions: count }));
  } catch (err) {
    if (isUnknownOperation(err)) throw new ScenarioSkipped(PC_UNAVAILABLE);
    throw err;
  }
  for (;;) {
    const pc = await getProvisioned(server, fn, qualifier);
    if (pc.status === 'READY') return (performance.now() - t0) / 1000;
    if (pc.status === 'FAILED') throw new Error(`provisioned concurrency on ${fn}:${qualifier} FAILED`);
    if (performance.now() - t0 > timeoutMs) throw new Error(`provisioned concurrency on ${fn}:${qualifier} not READY after ${timeoutMs / 1000} s (${pc.status}, ${pc.allocated}/${pc.requested})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Probes for the provisioned-concurrency gauges of one qualifier (absent until the server exports them). */
export function provisionedProbes(fn: string, qualifier: string): Record<string, Probe> {
  const labels = { function: fn, qualifier };
  return {
    allocated: (s) => promValue(s, 'laminar_provisioned_concurrency_allocated', labels),
    executions: (s) => promValue(s, 'laminar_provisioned_concurrency_executions', labels),
    utilization: (s) => promValue(s, 'laminar_provisioned_concurrency_utilization', labels),
  };
}
