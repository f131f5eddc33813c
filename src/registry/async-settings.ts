/**
 * What asynchronous invocations read at every attempt of every event: the event invoke config
 * of the invoked qualifier and the function's dead-letter queue. Both are cached until the next
 * registry write, so a config written between attempts applies from the next one.
 */
import { eventInvokeConfigFor, type EventInvokeConfigContext } from './event-invoke-config.js';
import { LATEST_NUM } from './store.js';
import type { StoredEventInvokeConfig } from './types.js';

interface Cache {
  generation: number;
  configs: Map<string, StoredEventInvokeConfig | undefined>;
  deadLetters: Map<string, string | undefined>;
}

export class AsyncSettings {
  private cache: Cache = { generation: -1, configs: new Map(), deadLetters: new Map() };

  constructor(private readonly r: EventInvokeConfigContext) {}

  /**
   * The config stored for that qualifier ($LATEST's for an unqualified invocation), undefined
   * when there is none. No fallback from an alias or version to $LATEST, as in Lambda.
   */
  eventInvokeConfigFor(name: string, qualifier: string | undefined): StoredEventInvokeConfig | undefined {
    const cache = this.current();
    const key = `${name}\u0000${qualifier ?? ''}`;
    if (!cache.configs.has(key)) cache.configs.set(key, eventInvokeConfigFor(this.r, name, qualifier));
    return cache.configs.get(key);
  }

  /**
   * `DeadLetterConfig.TargetArn` of $LATEST, undefined when the function has none or no longer
   * exists. A function-level setting that versions share, as Lambda's current documentation has it.
   */
  deadLetterTarget(name: string): string | undefined {
    const cache = this.current();
    if (!cache.deadLetters.has(name)) {
      const arn = this.r.store.getVersion(name, LATEST_NUM)?.config.DeadLetterConfig?.TargetArn;
      cache.deadLetters.set(name, arn ? arn : undefined);
    }
    return cache.deadLetters.get(name);
  }

  private current(): Cache {
    if (this.cache.generation !== this.r.store.generation) {
      this.cache = { generation: this.r.store.generation, configs: new Map(), deadLetters: new Map() };
    }
    return this.cache;
  }
}
