/** Services the registry shares with its operation modules, and errors they all raise. */
import type { Partition } from '../core/arn.js';
import type { Clock } from '../core/clock.js';
import {
  CodeStorageExceededException,
  InvalidParameterValueException,
  RequestTooLargeException,
  ResourceConflictException,
  ResourceNotFoundException,
} from '../core/errors.js';
import type { CodeStore } from './code-store.js';
import type { FunctionLayer } from './layers.js';
import { LATEST_NUM, type FunctionRow, type Store, type VersionRow } from './store.js';

export interface RegistryLimits {
  codeSizeZipped: number;
  codeSizeUnzipped: number;
  totalCodeSize: number;
}

export interface RegistryChange {
  functionName: string;
  /** The version concerned; for alias changes, the alias name. */
  version: string;
  kind: 'updated' | 'deleted' | 'alias-updated' | 'alias-deleted';
}

export type RegistryChangeListener = (e: RegistryChange) => void;

/** The listeners of registry changes, and the one way to tell them. */
export class ChangeFeed {
  private readonly listeners = new Set<RegistryChangeListener>();

  subscribe(listener: RegistryChangeListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  emit(change: RegistryChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch {
        // A failing listener must not undo or block a registry change that is already committed.
      }
    }
  }
}

/** Internal services shared by the operation modules. */
export interface RegistryInternals {
  store: Store;
  code: CodeStore;
  clock: Clock;
  partition: Partition;
  limits: RegistryLimits;
  arn(name: string, qualifier?: string): string;
  requireFunction(name: string, qualifier?: string): FunctionRow;
  notFound(name: string, qualifier?: string): ResourceNotFoundException;
  latest(name: string): VersionRow;
  scheduleSettle(name: string): void;
  gc(hashes: readonly string[]): void;
  emit(change: RegistryChange): void;
  cancelTimer(name: string): void;
  /** Checks a function's `Layers` and returns what its snapshot records of each. */
  resolveLayers(arns: readonly string[]): FunctionLayer[];
}

/** Lambda's defaults for the limits an instance does not set. */
export function registryLimits(given: Partial<RegistryLimits> = {}): RegistryLimits {
  return {
    codeSizeZipped: given.codeSizeZipped ?? 52_428_800,
    codeSizeUnzipped: given.codeSizeUnzipped ?? 262_144_000,
    totalCodeSize: given.totalCodeSize ?? 80_530_636_800,
  };
}

/**
 * The lookups every operation starts with. A miss is Lambda's "Function not found" naming the
 * ARN the caller asked for, qualifier included.
 */
export function functionLookups(
  store: Store,
  arn: (name: string, qualifier?: string) => string,
): Pick<RegistryInternals, 'notFound' | 'requireFunction' | 'latest'> {
  const notFound = (name: string, qualifier?: string): ResourceNotFoundException =>
    new ResourceNotFoundException(`Function not found: ${arn(name, qualifier)}`);
  return {
    notFound,
    requireFunction(name, qualifier) {
      const fn = store.getFunction(name);
      if (!fn) throw notFound(name, qualifier);
      return fn;
    },
    latest(name) {
      const row = store.getVersion(name, LATEST_NUM);
      if (!row) throw notFound(name);
      return row;
    },
  };
}

/** The size limits an uploaded zip (function code or layer) must meet before it is stored. */
export function checkCodeSize(r: Pick<RegistryInternals, 'limits' | 'store'>, zip: Buffer): void {
  const { codeSizeZipped, totalCodeSize } = r.limits;
  if (zip.length > codeSizeZipped) {
    throw new RequestTooLargeException(`Zipped size must be smaller than ${codeSizeZipped} bytes`);
  }
  if (r.store.usage().totalCodeSize + zip.length > totalCodeSize) {
    throw new CodeStorageExceededException('Code storage limit exceeded.');
  }
}

/**
 * Lambda's limit on a function's code and layers together, unzipped: the same number as one
 * archive's unzipped limit. `codeBytes` is the code's unzipped size, the layers are stored hashes.
 */
export function checkCombinedSize(r: Pick<RegistryInternals, 'limits' | 'code'>, codeBytes: number, layerHashes: readonly string[]): void {
  if (layerHashes.length === 0) return;
  const actual = layerHashes.reduce((sum, hash) => sum + r.code.unzippedSize(hash), codeBytes);
  const max = r.limits.codeSizeUnzipped;
  if (actual > max) {
    throw new InvalidParameterValueException(
      `Function code combined with layers exceeds the maximum allowed size of ${max} bytes. The actual size is ${actual} bytes.`,
    );
  }
}

export function pendingConflict(): ResourceConflictException {
  return new ResourceConflictException(
    'The operation cannot be performed at this time. The function is currently in the following state: Pending',
  );
}

export function updateConflict(arn: string): ResourceConflictException {
  return new ResourceConflictException(
    `The operation cannot be performed at this time. An update is in progress for resource: ${arn}`,
  );
}
