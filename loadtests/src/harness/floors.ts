/**
 * The floors every figure is divided by: a bare Fastify echo server and a bare Fastify + piscina
 * dispatch, each in its own child process, started once per run and measured next to each
 * Laminar measurement (see measurePaired) on the same connections, duration and repetitions.
 */
import { compiledScript } from './paths.js';
import { startNode, type Child } from './processes.js';

export type FloorKind = 'echo' | 'piscina';

export const FLOOR_LABELS: Record<FloorKind, string> = {
  echo: 'Fastify echo',
  piscina: 'Fastify + piscina',
};

/** The invoke route the floors serve (any function name). */
export const FLOOR_PATH = '/2015-03-31/functions/floor/invocations';

export class FloorServers {
  private readonly servers = new Map<FloorKind, Promise<Child>>();

  /** The floor server's base URL, starting it the first time. */
  async url(kind: FloorKind): Promise<string> {
    let server = this.servers.get(kind);
    if (!server) {
      server = startNode({ args: [compiledScript(`floors/${kind}-server.js`)], readyPattern: /floor listening on (\S+)/ });
      this.servers.set(kind, server);
    }
    return (await server).ready;
  }

  async close(): Promise<void> {
    const servers = await Promise.allSettled(this.servers.values());
    await Promise.all(servers.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    this.servers.clear();
  }
}
