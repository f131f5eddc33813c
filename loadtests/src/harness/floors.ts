/**
 * The floors every figure is divided by, each a Fastify server in its own child process, started
 * once per run and measured next to each Laminar measurement (see measurePaired) on the same
 * connections, duration and repetitions:
 *
 * - `echo`: answers at once; the best any HTTP API here can do.
 * - `piscina`: one warm piscina thread for every request; the best a thread dispatch can do.
 * - The floors of a kind, with Lambda's semantics (one backend per request in flight, as Laminar
 *   runs one environment per invocation): `workers` (a bare Worker each), `piscina-each` (a
 *   piscina pool of one thread each, as Laminar builds a thread environment), `processes` (a
 *   child process each, over a pipe), `sandboxed-processes` (the same in Laminar's bubblewrap
 *   view) and `runtime-api` (the custom runtime's own bootstrap on a bare HTTP Runtime API, in
 *   the sandbox).
 */
import { dirname, join } from 'node:path';
import { compiledScript, FUNCTIONS_DIR, requireLaminarBuild } from './paths.js';
import { startNode, type Child } from './processes.js';

export type FloorKind = 'echo' | 'piscina' | 'workers' | 'piscina-each' | 'processes' | 'sandboxed-processes' | 'runtime-api';

export const FLOOR_LABELS: Record<FloorKind, string> = {
  echo: 'Fastify echo',
  piscina: 'Fastify + piscina',
  workers: 'a bare Worker per request in flight',
  'piscina-each': 'a piscina pool per request in flight',
  processes: 'a child process per request in flight, over a pipe',
  'sandboxed-processes': 'a sandboxed child process per request in flight, over a pipe',
  'runtime-api': 'the same bootstrap per request in flight on a bare Runtime API, sandboxed',
};

/** The custom runtime the `runtime-api` floor runs: the one the kinds scenario deploys. */
export const RUNTIME_API_FUNCTION = 'noop-custom';

function scriptArgs(kind: FloorKind): string[] {
  switch (kind) {
    case 'processes':
      return [compiledScript('floors/processes-server.js'), 'plain'];
    case 'sandboxed-processes':
      return [compiledScript('floors/processes-server.js'), 'sandboxed', dirname(requireLaminarBuild())];
    case 'runtime-api':
      return [compiledScript('floors/runtime-api-server.js'), dirname(requireLaminarBuild()), join(FUNCTIONS_DIR, RUNTIME_API_FUNCTION)];
    default:
      return [compiledScript(`floors/${kind}-server.js`)];
  }
}

/** The invoke route the floors serve (any function name). */
export const FLOOR_PATH = '/2015-03-31/functions/floor/invocations';

export class FloorServers {
  private readonly servers = new Map<FloorKind, Promise<Child>>();

  /** The floor server's base URL, starting it the first time. */
  async url(kind: FloorKind): Promise<string> {
    let server = this.servers.get(kind);
    if (!server) {
      server = startNode({ args: scriptArgs(kind), readyPattern: /floor listening on (\S+)/ });
      this.servers.set(kind, server);
    }
    return (await server).ready;
  }

  /**
   * Starts a floor's backends until there are `n` (the floors of a kind start one per request in
   * flight), as the scenarios pre-warm Laminar's environments: no floor run pays for starting one.
   */
  async prewarm(kind: FloorKind, n: number): Promise<void> {
    const res = await fetch(`${await this.url(kind)}/floor/prewarm?n=${n}`, { method: 'POST', signal: AbortSignal.timeout(300_000) });
    if (res.status !== 204) throw new Error(`${FLOOR_LABELS[kind]}: prewarm answered ${res.status}`);
  }

  /** The floor server's process id, once started (for its CPU time). */
  async pid(kind: FloorKind): Promise<number | undefined> {
    const server = this.servers.get(kind);
    return server === undefined ? undefined : (await server).process.pid;
  }

  async close(): Promise<void> {
    const servers = await Promise.allSettled(this.servers.values());
    await Promise.all(servers.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    this.servers.clear();
  }
}
