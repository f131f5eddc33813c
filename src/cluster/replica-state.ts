/**
 * What a replica reads off its own registry when the cluster's state replaces it wholesale: the
 * change events that tell listeners everything they knew is gone, and the archives a snapshot of
 * it must carry. Reads only.
 */
import { readdirSync } from 'node:fs';
import type { RegistryChange } from '../registry/registry.js';
import type { Store } from '../registry/store.js';

/** The events a deletion of every function sends: one `deleted` per version, as DeleteFunction does. */
export function everythingDeleted(store: Store): RegistryChange[] {
  return store
    .functionNames()
    .flatMap((name) => store.versionsOf(name).map((v): RegistryChange => ({ functionName: name, version: v.config.Version, kind: 'deleted' })));
}

/** The archives in this node's code folder that some row references. */
export function referencedArchives(store: Store, codeRoot: string): string[] {
  return readdirSync(codeRoot)
    .filter((name) => /^[0-9a-f]{64}$/.test(name))
    .filter((hash) => store.hashInUse(hash));
}
