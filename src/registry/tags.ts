/**
 * Function tags: TagResource, UntagResource and ListTags, and the checks CreateFunction's Tags
 * share with them. Tags belong to the function, not to a version: every version and alias shows
 * the function's current tags, as in Lambda. One tag is Laminar's own: `laminar:isolation`.
 */
import { InvalidParameterValueException } from '../core/errors.js';
import { revisionId } from '../core/ids.js';
import type { RegistryInternals } from './internals.js';
import type { FunctionRow } from './store.js';
import type { Isolation } from './types.js';
import { assertFunctionName } from './validation.js';

/** Lambda's limit of tags on one resource. */
export const TAG_LIMIT = 50;

/** The tag that chooses how a function's environments are isolated. */
export const ISOLATION_TAG = 'laminar:isolation';
export const ISOLATION_VALUES: readonly Isolation[] = ['thread', 'process'];

/**
 * The checks every set of tags passes before it is stored: Lambda's count limit (on the tags the
 * resource will have) and the values Laminar's own tag accepts.
 */
export function assertTags(incoming: Record<string, string>, existing: Record<string, string> = {}): void {
  if (Object.keys({ ...existing, ...incoming }).length > TAG_LIMIT) {
    throw new InvalidParameterValueException('Number of tags exceeds resource tag limit.');
  }
  const isolation = incoming[ISOLATION_TAG];
  if (isolation !== undefined && !(ISOLATION_VALUES as readonly string[]).includes(isolation)) {
    throw new InvalidParameterValueException(
      `Value '${isolation}' of tag ${ISOLATION_TAG} is not supported. Valid values: ${ISOLATION_VALUES.join(', ')}.`,
    );
  }
}

/** The isolation a function's tags ask for; undefined when the tag is not set. */
export function isolationOf(tags: Record<string, string> | undefined): Isolation | undefined {
  const value = tags?.[ISOLATION_TAG];
  return value === 'thread' || value === 'process' ? value : undefined;
}

export function listTags(r: RegistryInternals, name: string): Record<string, string> {
  assertFunctionName(name);
  return { ...(r.requireFunction(name).tags ?? {}) };
}

export function tagResource(r: RegistryInternals, name: string, tags: Record<string, string>): void {
  assertFunctionName(name);
  // Lambda's words for an empty map, which the request shape lets through.
  if (Object.keys(tags).length === 0) throw new InvalidParameterValueException('An error occurred and the request cannot be processed.');
  r.store.tx(() => {
    const fn = r.requireFunction(name);
    assertTags(tags, fn.tags);
    writeTags(r, fn, { ...fn.tags, ...tags });
  });
}

export function untagResource(r: RegistryInternals, name: string, keys: readonly string[]): void {
  assertFunctionName(name);
  r.store.tx(() => {
    const fn = r.requireFunction(name);
    const tags = { ...fn.tags };
    for (const key of keys) delete tags[key];
    writeTags(r, fn, tags);
  });
}

/**
 * Stores the function's tags. Lambda gives $LATEST a new RevisionId on every tag change, so a
 * caller holding the old one learns that the function changed. The store write also ends the
 * resolve cache, so the next invoke sees the new `laminar:isolation`.
 */
function writeTags(r: RegistryInternals, fn: FunctionRow, tags: Record<string, string>): void {
  if (Object.keys(tags).length > 0) fn.tags = tags;
  else delete fn.tags;
  r.store.putFunction(fn);
  const latest = r.latest(fn.name);
  r.store.putVersion({ ...latest, config: { ...latest.config, RevisionId: revisionId() } });
}
