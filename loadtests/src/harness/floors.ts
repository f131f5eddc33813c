/**
 * The floors every figure is divided by, measured in the same run on the same machine, with the
 * same connections, duration and repetitions: a bare Fastify echo server and a bare Fastify +
 * piscina dispatch, each in its own child process. Ratios to a floor survive a noisy or slower
 * machine far better than absolute numbers.
 */
import type { LoadFigure } from './figures.js';
import { measureLoad } from './measure.js';
import { compiledScript } from './paths.js';
import { startNode, type Child } from './processes.js';
import type { Settings } from './settings.js';

export type FloorKind = 'echo' | 'piscina';

export const FLOOR_LABELS: Record<FloorKind, string> = {
  echo: 'Fastify echo',
  piscina: 'Fastify + piscina',
};

const INVOKE_PATH = '/2015-03-31/functions/floor/invocations';

export class Floors {
  private readonly servers = new Map<FloorKind, Promise<Child>>();
  private readonly figures = new Map<string, Promise<LoadFigure>>();

  constructor(private readonly settings: Settings) {}

  /** The floor at `connections`, measured the first time it is asked for (close to the scenario that needs it). */
  get(kind: FloorKind, connections: number): Promise<LoadFigure> {
    const key = `${kind}@${connections}`;
    let figure = this.figures.get(key);
    if (!figure) {
      figure = this.measure(kind, connections);
      this.figures.set(key, figure);
    }
    return figure;
  }

  /** Every floor measured so far, for the report. */
  async all(): Promise<Record<string, LoadFigure>> {
    const out: Record<string, LoadFigure> = {};
    for (const [key, figure] of this.figures) {
      try {
        out[key] = await figure;
      } catch {
        // A failed floor is reported by the scenario that asked for it.
      }
    }
    return out;
  }

  async close(): Promise<void> {
    const servers = await Promise.allSettled(this.servers.values());
    await Promise.all(servers.map((s) => (s.status === 'fulfilled' ? s.value.stop() : undefined)));
    this.servers.clear();
  }

  private async measure(kind: FloorKind, connections: number): Promise<LoadFigure> {
    const server = await this.server(kind);
    this.settings.log(`  floor ${FLOOR_LABELS[kind]} at ${connections} connections`);
    const { figure } = await measureLoad({ url: server.ready, path: INVOKE_PATH, body: '{}', connections }, this.settings);
    return figure;
  }

  private server(kind: FloorKind): Promise<Child> {
    let server = this.servers.get(kind);
    if (!server) {
      server = startNode({ args: [compiledScript(`floors/${kind}-server.js`)], readyPattern: /floor listening on (\S+)/ });
      this.servers.set(kind, server);
    }
    return server;
  }
}
