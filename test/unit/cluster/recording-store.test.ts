/**
 * The parts of the cluster registry that need no Redis: recording a registry's store writes and
 * replaying them on another store, the log entry's checks, the lock's retry pauses, and the
 * lists that say which Store and Registry methods write.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, MalformedRegistryLogError, type LogEntry } from '../../../src/cluster/log-entry.js';
import { applyCall, archivesOf, MUTATIONS, RecordingStore, UnloggedRegistryWriteError, type RecordedCall } from '../../../src/cluster/recording-store.js';
import { lockRetryDelayMs } from '../../../src/cluster/registry-lock.js';
import { ManualClock } from '../../../src/core/clock.js';
import { Registry } from '../../../src/registry/registry.js';
import { Store } from '../../../src/registry/store.js';
import { fnInput, makeZip, PARTITION, REGISTRY_WRITES } from '../registry/helpers.js';

/** Store methods that only read, or that a replica itself calls (never recorded). */
const STORE_OTHERS = [
  'constructor', 'close', 'tx', 'getFunction', 'functionNames', 'getVersion', 'versionsOf', 'versionsPage', 'latestPage',
  'allVersionsPage', 'hashInUse', 'usage', 'getLayerVersion', 'layerVersionsPage', 'layersPage', 'allProvisioned',
  'getEventInvokeConfig', 'eventInvokeConfigsOf', 'getReservedConcurrency', 'allReservedConcurrency', 'getAlias', 'aliasesOf',
  'aliasesPage', 'getFunctionUrl', 'functionUrlById', 'functionUrlsPage', 'getMeta', 'setMeta', 'begin', 'rollback',
  'exportRows', 'importRows',
];

function publicMethods(proto: object, stop: object): string[] {
  const names = new Set<string>();
  for (let p = proto; p !== stop; p = Object.getPrototypeOf(p) as object) {
    for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) if (typeof d.value === 'function') names.add(name);
  }
  return [...names].sort();
}

describe('which methods write', () => {
  it('every Store method is either a recorded mutation or known not to change the content', () => {
    expect(publicMethods(Store.prototype, Object.prototype)).toEqual([...MUTATIONS, ...STORE_OTHERS].sort());
  });

  it('every Registry method that writes is in the list the conformance run sends through the replica', () => {
    const reads = publicMethods(Registry.prototype, Object.prototype).filter((m) => !(REGISTRY_WRITES as readonly string[]).includes(m));
    // Named here so that a new method must be classified: a write missing from the list would pass the conformance run unlogged.
    expect(reads).toEqual([
      'assertFunctionExists', 'close', 'codeArchive', 'constructor', 'deadLetterTarget', 'eventInvokeConfigFor', 'functionUrlById',
      'getAlias', 'getEventInvokeConfig', 'getFunction', 'getFunctionConfiguration', 'getFunctionUrlConfig', 'getLayerVersion',
      'getLayerVersionByArn', 'getReservedConcurrency', 'listAliases', 'listEventInvokeConfigs', 'listFunctionUrlConfigs',
      'listFunctions', 'listLayerVersions', 'listLayers', 'listTags', 'listVersionsByFunction', 'onChange', 'provisionedConfigs',
      'reservedConcurrency', 'resolve', 'resolvePrimary', 'usage',
    ]);
  });
});

describe('RecordingStore', () => {
  let dir: string;
  const clock = new ManualClock(Date.UTC(2026, 0, 2));
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'laminar-recording-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function openRegistry(name: string): { registry: Registry; store: RecordingStore } {
    let store: RecordingStore | undefined;
    const registry = Registry.open({ dataDir: path.join(dir, name), clock, partition: PARTITION, openStore: (f) => (store = new RecordingStore(f)) });
    if (!store) throw new Error('no store');
    return { registry, store };
  }

  /** Runs `op` with its store writes recorded, and keeps them (no rollback: this is the writer's view). */
  async function recorded(store: RecordingStore, op: () => unknown): Promise<RecordedCall[]> {
    store.startRecording();
    try {
      await op();
    } catch (err) {
      store.stopRecording();
      throw err;
    }
    return store.stopRecording();
  }

  it('replaying what a registry recorded rebuilds the same rows on another store', async () => {
    const a = openRegistry('a');
    const b = openRegistry('b');
    try {
      const layer = await makeZip([{ name: 'nodejs/x.js', content: 'x' }]);
      const calls: RecordedCall[] = [];
      const ops: (() => unknown)[] = [
        async () => a.registry.publishLayerVersion('l', { Content: { ZipFile: layer } }),
        async () => a.registry.createFunction(await fnInput('f', { Tags: { t: '1' }, Publish: true })),
        () => a.registry.createAlias('f', { Name: 'live', FunctionVersion: '1' }),
        () => a.registry.updateFunctionConfiguration('f', { Timeout: 9, Layers: ['arn:aws:lambda:us-east-1:123456789012:layer:l:1'] }),
        () => a.registry.setReservedConcurrency('f', 3),
        () => a.registry.putEventInvokeConfig('f', 'live', { MaximumRetryAttempts: 0 }),
        () => a.registry.createFunctionUrlConfig('f', undefined, { AuthType: 'NONE' }),
        () => a.registry.putProvisionedConfig('f', '1', 1),
        () => a.registry.untagResource('f', ['t']),
        () => a.registry.deleteLayerVersion('l', 1),
      ];
      for (const op of ops) calls.push(...(await recorded(a.store, op)));
      b.store.replaying(() => b.store.tx(() => b.store.applyCalls(calls)));
      expect(b.store.exportRows()).toEqual(a.store.exportRows());
      expect(calls.flatMap(archivesOf).every((h) => /^[0-9a-f]{64}$/.test(h))).toBe(true);
    } finally {
      a.registry.close();
      b.registry.close();
    }
  });

  it('records a copy of each call as it was made, and drops the calls of a transaction that threw', async () => {
    const { registry, store } = openRegistry('a');
    try {
      await recorded(store, async () => registry.createFunction(await fnInput('f')));
      const calls = await recorded(store, () => {
        store.tx(() => store.setReservedConcurrency('f', 1));
        try {
          store.tx(() => {
            store.setReservedConcurrency('f', 2);
            throw new Error('undo');
          });
        } catch {
          // the transaction is gone, and so is its call
        }
        const row = store.getFunction('f');
        if (!row) throw new Error('no row');
        store.putFunction(row);
        row.tags = { changed: 'after' };
      });
      expect(calls.map((c) => c.method)).toEqual(['setReservedConcurrency', 'putFunction']);
      expect(calls[1]?.args[0]).not.toHaveProperty('tags');
      expect(store.getReservedConcurrency('f')).toBe(1);
    } finally {
      registry.close();
    }
  });

  it('refuses a write outside a recording or a replay, before it changes anything', async () => {
    const { registry, store } = openRegistry('a');
    try {
      await recorded(store, async () => registry.createFunction(await fnInput('f')));
      expect(() => registry.setReservedConcurrency('f', 4)).toThrow(UnloggedRegistryWriteError);
      expect(store.getReservedConcurrency('f')).toBeUndefined();
    } finally {
      registry.close();
    }
  });
});

describe('log entries', () => {
  const hash = 'a'.repeat(64);
  const write: LogEntry = {
    kind: 'write',
    calls: [{ method: 'setReservedConcurrency', args: ['f', 3] }],
    changes: [{ functionName: 'f', version: '1', kind: 'deleted' }],
    garbage: [hash],
    archives: [],
  };

  it('round-trip through their text', () => {
    expect(decodeEntry(1, encodeEntry(write))).toEqual(write);
    const snapshot: LogEntry = { kind: 'snapshot', rows: { functions: [{ name: 'f', next_version: 1, tags: null }] }, archives: [hash] };
    expect(decodeEntry(2, encodeEntry(snapshot))).toEqual(snapshot);
  });

  it.each([
    ['not JSON', '{', 'is not JSON'],
    ['an unknown kind', '{"kind":"other"}', 'is neither a write nor a snapshot'],
    ['a call that is not a store write', JSON.stringify({ ...write, calls: [{ method: 'close', args: [] }] }), 'holds a call that is not a registry store write'],
    ['an archive that is not a hash', JSON.stringify({ ...write, archives: ['../../etc'] }), 'lists an archive that is not a SHA-256'],
    ['an unknown event', JSON.stringify({ ...write, changes: [{ functionName: 'f', version: '1', kind: 'exploded' }] }), 'holds a change event of an unknown shape'],
    ['a snapshot cell of another type', JSON.stringify({ kind: 'snapshot', rows: { functions: [{ name: { x: 1 } }] }, archives: [] }), 'is a snapshot with a row of an unknown shape'],
  ])('refuses %s', (_what, text, message) => {
    expect(() => decodeEntry(7, text)).toThrow(MalformedRegistryLogError);
    expect(() => decodeEntry(7, text)).toThrow(`Entry 7 of the registry log in Redis ${message}; the log's keys were changed outside Laminar`);
  });
});

describe('lockRetryDelayMs', () => {
  it('doubles from 5 ms to a 200 ms ceiling, with up to half again of jitter', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 20].map((n) => lockRetryDelayMs(n, 0))).toEqual([5, 10, 20, 40, 80, 160, 200, 200]);
    expect(lockRetryDelayMs(0, 0.999)).toBe(7);
    expect(lockRetryDelayMs(10, 0.999)).toBe(299);
  });
});
