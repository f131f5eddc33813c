import type { FastifyInstance } from 'fastify';
import { Exposition } from '../../metrics/exposition.js';
import type { Metrics } from '../../metrics/metrics.js';

export interface MetricsRouteOptions {
  metrics: Metrics;
  health?: () => Record<string, unknown> | Promise<Record<string, unknown>>;
}

/** `GET /metrics` (Prometheus text) and `GET /health`. */
export async function metricsHealthRoutes(app: FastifyInstance, o: MetricsRouteOptions): Promise<void> {
  const exposition = new Exposition(o.metrics.registry);
  app.get('/metrics', async (req, reply) => {
    const { contentType, body } = await exposition.render(req.headers.accept);
    return reply.type(contentType).send(body);
  });
  app.get('/health', async () => ({ status: 'ok', ...((await o.health?.()) ?? {}) }));
}
