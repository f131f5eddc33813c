import { Registry, type RegistryContentType } from 'prom-client';
import { exposedName, type NamedMetric } from './metrics.js';

/**
 * Renders a registry in the format the scraper asked for: OpenMetrics (with exemplars) when its
 * Accept header offers it, the Prometheus text format otherwise. One registry serves both, so
 * renders are serialized: the format is a property of the registry while it renders.
 */
export class Exposition {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly registry: Registry<RegistryContentType>) {}

  static wantsOpenMetrics(accept: string | undefined): boolean {
    return accept !== undefined && /application\/openmetrics-text/i.test(accept);
  }

  render(accept: string | undefined): Promise<{ contentType: string; body: string }> {
    const open = Exposition.wantsOpenMetrics(accept);
    const run = this.queue.then(() => this.renderNow(open));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async renderNow(open: boolean): Promise<{ contentType: string; body: string }> {
    const contentType = open ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE;
    if (!open) {
      // An earlier OpenMetrics render left counters without `_total`; the Prometheus format needs it.
      for (const m of this.registry.getMetricsAsArray() as unknown as NamedMetric[]) m.name = exposedName(m);
    }
    this.registry.setContentType(contentType as RegistryContentType);
    return { contentType, body: await this.registry.metrics() };
  }
}
