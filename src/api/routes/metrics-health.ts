import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../../metrics/metrics.js';

export interface MetricsRouteOptions {
  metrics: Metrics;
}

/** `GET /metrics` (Prometheus text) and `GET /health`. */
export async function metricsHealthRoutes(app: FastifyInstance, o: MetricsRouteOptions): Promise<void> {
  app.get('/metrics', async (_req, reply) => {
    const text = await o.metrics.registry.metrics();
    return reply.type(o.metrics.registry.contentType).send(text);
  });
  app.get('/health', async () => ({ status: 'ok' }));
}
