/**
 * The entries of the cluster's registry log, as JSON text in Redis: pure encoding and checking,
 * no I/O. An entry is either one write (the store calls it made, the effects every node applies
 * after them, the archives it references) or a snapshot of a whole registry (the first entry of
 * a log re-seeded by a node after Redis lost its data).
 */
import type { RegistryChange } from '../registry/registry.js';
import type { TableRows } from '../registry/store.js';
import { isMutation, type RecordedCall } from './recording-store.js';

export interface WriteEntry {
  kind: 'write';
  calls: RecordedCall[];
  changes: RegistryChange[];
  /** Archives the write stopped using: each node removes its copy once nothing uses it. */
  garbage: string[];
  /** Archives the calls reference; stored in Redis before the entry was appended. */
  archives: string[];
}

export interface SnapshotEntry {
  kind: 'snapshot';
  rows: TableRows;
  archives: string[];
}

export type LogEntry = WriteEntry | SnapshotEntry;

/** An entry that is not what Laminar writes: the log's keys were changed by something else. */
export class MalformedRegistryLogError extends Error {
  constructor(seq: number, what: string) {
    super(`Entry ${seq} of the registry log in Redis ${what}; the log's keys were changed outside Laminar`);
    this.name = new.target.name;
  }
}

const HASH = /^[0-9a-f]{64}$/;
const CHANGE_KINDS: ReadonlySet<string> = new Set(['updated', 'deleted', 'alias-updated', 'alias-deleted']);

export function encodeEntry(entry: LogEntry): string {
  return JSON.stringify(entry);
}

type Json = Record<string, unknown>;
const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

function hashes(x: unknown, fail: (what: string) => never): string[] {
  if (!Array.isArray(x) || !x.every((h) => typeof h === 'string' && HASH.test(h))) fail('lists an archive that is not a SHA-256');
  return x as string[];
}

function call(x: unknown, fail: (what: string) => never): RecordedCall {
  if (!isObject(x) || typeof x.method !== 'string' || !Array.isArray(x.args)) fail('holds a call that is not a store write');
  const c = x as Json;
  // A side store's call names its store; whether that store has the method is checked when applied.
  if (c.store !== undefined) {
    if (typeof c.store !== 'string') fail('holds a call naming a store that is not a string');
    return c as unknown as RecordedCall;
  }
  if (!isMutation(c.method as string)) fail('holds a call that is not a registry store write');
  return c as unknown as RecordedCall;
}

function change(x: unknown, fail: (what: string) => never): RegistryChange {
  if (!isObject(x) || typeof x.functionName !== 'string' || typeof x.version !== 'string' || typeof x.kind !== 'string' || !CHANGE_KINDS.has(x.kind)) {
    fail('holds a change event of an unknown shape');
  }
  return { functionName: x.functionName, version: x.version, kind: x.kind as RegistryChange['kind'] };
}

function rows(x: unknown, fail: (what: string) => never): TableRows {
  if (!isObject(x)) fail('is a snapshot without tables');
  for (const table of Object.values(x)) {
    const ok = Array.isArray(table) && table.every((row) => isObject(row) && Object.values(row).every((v) => v === null || typeof v === 'string' || typeof v === 'number'));
    if (!ok) fail('is a snapshot with a row of an unknown shape');
  }
  return x as TableRows;
}

/**
 * Checks the frame of an entry: what the replica acts on (methods, archives, events, snapshot
 * cells). The arguments of a call are the rows another node's store wrote; they are trusted as
 * the rest of the registry's own data is.
 */
export function decodeEntry(seq: number, text: string): LogEntry {
  const fail = (what: string): never => {
    throw new MalformedRegistryLogError(seq, what);
  };
  let x: unknown;
  try {
    x = JSON.parse(text);
  } catch {
    return fail('is not JSON');
  }
  if (!isObject(x)) return fail('is not an object');
  if (x.kind === 'snapshot') return { kind: 'snapshot', rows: rows(x.rows, fail), archives: hashes(x.archives, fail) };
  if (x.kind !== 'write' || !Array.isArray(x.calls) || !Array.isArray(x.changes)) return fail('is neither a write nor a snapshot');
  return {
    kind: 'write',
    calls: x.calls.map((c) => call(c, fail)),
    changes: x.changes.map((c) => change(c, fail)),
    garbage: hashes(x.garbage, fail),
    archives: hashes(x.archives, fail),
  };
}
