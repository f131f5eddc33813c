/**
 * The operations that change functions and versions: create, update code/configuration,
 * publish and delete. Each re-checks its preconditions inside the transaction that commits it,
 * because zip extraction is asynchronous and another call may have run meanwhile.
 */
import { VERSION_RE } from '../core/arn.js';
import { InvalidParameterValueException, ResourceConflictException } from '../core/errors.js';
import { revisionId } from '../core/ids.js';
import { digest, type StoredCode } from './code-store.js';
import {
  applyConfigUpdate,
  assertRevision,
  fingerprint,
  markUpdating,
  newConfiguration,
  present,
  settled,
} from './config.js';
import { checkCodeSize, checkCombinedSize, pendingConflict, updateConflict, type RegistryInternals } from './internals.js';
import { declaredUnzippedSize } from './unzip.js';
import type { FunctionLayer } from './layers.js';
import { LATEST_NUM, type FunctionRow, type VersionRow } from './store.js';
import { assertTags } from './tags.js';
import type {
  CreateFunctionInput,
  FunctionConfiguration,
  PublishVersionInput,
  UpdateFunctionCodeInput,
  UpdateFunctionConfigurationInput,
} from './types.js';
import {
  assertEnvironment,
  assertFunctionName,
  assertNewFunctionName,
  assertRuntime,
} from './validation.js';

const ONLY_ZIP =
  'Laminar accepts only Code.ZipFile: upload the .zip deployment package inline (S3Bucket, S3Key, S3ObjectVersion and ImageUri are not supported).';

interface CodeInput {
  ZipFile?: Buffer | Uint8Array;
  S3Bucket?: string;
  S3Key?: string;
  S3ObjectVersion?: string;
  ImageUri?: string;
}

function zipOf(code: CodeInput | undefined, packageType?: string): Buffer {
  if (packageType === 'Image' || code?.ImageUri !== undefined) throw new InvalidParameterValueException(ONLY_ZIP);
  if (code?.S3Bucket !== undefined || code?.S3Key !== undefined || code?.S3ObjectVersion !== undefined) {
    throw new InvalidParameterValueException(ONLY_ZIP);
  }
  if (code?.ZipFile === undefined) throw new InvalidParameterValueException(ONLY_ZIP);
  return Buffer.isBuffer(code.ZipFile) ? code.ZipFile : Buffer.from(code.ZipFile);
}

export class FunctionOps {
  constructor(private readonly r: RegistryInternals) {}

  async create(input: CreateFunctionInput): Promise<FunctionConfiguration> {
    // Member shapes were checked against registry/shapes.ts where the input entered (API, laminar.json).
    assertNewFunctionName(input.FunctionName);
    const name = input.FunctionName;
    const zip = zipOf(input.Code, input.PackageType);
    assertRuntime(input.Runtime);
    if (input.Handler === undefined) throw new InvalidParameterValueException('Handler is required for .zip deployment packages.');
    assertEnvironment(input.Environment?.Variables);
    if (input.Tags) assertTags(input.Tags);
    const layers = input.Layers !== undefined ? this.r.resolveLayers(input.Layers) : [];
    if (this.r.store.getFunction(name)) throw alreadyExists(name);
    this.checkSize(zip);
    // Before extraction: a refused combination stores nothing.
    if (layers.length > 0) checkCombinedSize(this.r, await declaredUnzippedSize(zip), layers.map((l) => l.hash));
    return this.withCode(zip, (code) => {
      const row = this.r.store.tx(() => {
        if (this.r.store.getFunction(name)) throw alreadyExists(name);
        const fn: FunctionRow = { name, nextVersion: 1 };
        if (input.Tags && Object.keys(input.Tags).length > 0) fn.tags = { ...input.Tags };
        const config = newConfiguration(name, input, code, this.r.partition, this.r.clock.now());
        const latest: VersionRow = { functionName: name, num: LATEST_NUM, config, codeHash: code.hash };
        // Resolved again here: a layer version may have been deleted while the zip was extracted.
        if (input.Layers !== undefined) withLayers(latest, this.r.resolveLayers(input.Layers));
        this.r.store.putFunction(fn);
        this.r.store.putVersion(latest);
        return input.Publish ? this.publishLocked(fn, latest) : latest;
      });
      this.r.scheduleSettle(name);
      // Lambda reports the unqualified ARN here even when Publish made a version.
      return present(row.config, this.r.partition);
    });
  }

  async updateCode(name: string, input: UpdateFunctionCodeInput): Promise<FunctionConfiguration> {
    assertFunctionName(name);
    this.r.requireFunction(name);
    this.assertUpdatable(name, input.RevisionId);
    const zip = zipOf(input);
    this.checkSize(zip);
    const layerHashes = this.r.latest(name).layerHashes ?? [];
    const codeBytes = layerHashes.length > 0 ? await declaredUnzippedSize(zip) : undefined;
    if (codeBytes !== undefined) checkCombinedSize(this.r, codeBytes, layerHashes);
    if (input.DryRun) {
      const { sha256 } = digest(zip);
      return present({ ...this.r.latest(name).config, CodeSha256: sha256, CodeSize: zip.length }, this.r.partition);
    }
    return this.withCode(zip, (code) => {
      const row = this.r.store.tx(() => {
        const latest = this.assertUpdatable(name, input.RevisionId);
        // Again: the layers may have changed while the zip was extracted.
        if (latest.layerHashes?.length) checkCombinedSize(this.r, codeBytes ?? this.r.code.unzippedSize(code.hash), latest.layerHashes);
        const config: FunctionConfiguration = {
          ...markUpdating(latest.config, this.r.clock.now()),
          CodeSha256: code.sha256,
          CodeSize: code.size,
        };
        const arch = input.Architectures?.[0];
        if (arch !== undefined) config.Architectures = [arch as 'x86_64' | 'arm64'];
        const next = this.commitUpdate(name, latest, { ...latest, config, codeHash: code.hash });
        return input.Publish ? this.publishLocked(this.r.requireFunction(name), next) : next;
      });
      this.r.scheduleSettle(name);
      return present(row.config, this.r.partition, input.Publish ? row.config.Version : undefined);
    });
  }

  updateConfiguration(name: string, input: UpdateFunctionConfigurationInput): FunctionConfiguration {
    assertFunctionName(name);
    this.r.requireFunction(name);
    assertRuntime(input.Runtime);
    assertEnvironment(input.Environment?.Variables);
    const row = this.r.store.tx(() => {
      const latest = this.assertUpdatable(name, input.RevisionId);
      const config = applyConfigUpdate(latest.config, input, this.r.clock.now());
      const next: VersionRow = { ...latest, config };
      if (input.Layers !== undefined) {
        const layers = this.r.resolveLayers(input.Layers);
        if (layers.length > 0) checkCombinedSize(this.r, this.r.code.unzippedSize(latest.codeHash), layers.map((l) => l.hash));
        withLayers(next, layers);
      }
      return this.commitUpdate(name, latest, next);
    });
    this.r.scheduleSettle(name);
    return present(row.config, this.r.partition);
  }

  publish(name: string, input: PublishVersionInput): FunctionConfiguration {
    assertFunctionName(name);
    const row = this.r.store.tx(() => {
      const fn = this.r.requireFunction(name);
      const latest = this.assertUpdatable(name, input.RevisionId);
      if (input.CodeSha256 !== undefined && input.CodeSha256 !== latest.config.CodeSha256) {
        throw new InvalidParameterValueException(
          `CodeSHA256 (${input.CodeSha256}) is different from current CodeSHA256 in $LATEST (${latest.config.CodeSha256}). Please try again with the CodeSHA256 in $LATEST.`,
        );
      }
      return this.publishLocked(fn, latest, input.Description);
    });
    return present(row.config, this.r.partition, row.config.Version);
  }

  delete(name: string, qualifier?: string): void {
    assertFunctionName(name);
    if (qualifier === '$LATEST') {
      throw new InvalidParameterValueException('$LATEST version cannot be deleted without deleting the function.');
    }
    // Lambda refuses an alias here before it looks the function up.
    if (qualifier !== undefined && !VERSION_RE.test(qualifier)) {
      throw new InvalidParameterValueException('Deletion of aliases is not currently supported.');
    }
    this.r.requireFunction(name);
    if (qualifier === undefined) {
      this.deleteAll(name);
      return;
    }
    // Deleting a version that does not exist (any more) succeeds, as in Lambda.
    const row = this.r.store.getVersion(name, Number(qualifier));
    if (!row) return;
    const users = this.r.store
      .aliasesOf(name)
      .filter((a) => a.FunctionVersion === qualifier || a.RoutingConfig?.AdditionalVersionWeights?.[qualifier] !== undefined)
      .map((a) => a.Name);
    if (users.length > 0) {
      throw new ResourceConflictException(`Unable to delete version because the following aliases reference it: [${users.join(', ')}]`);
    }
    this.r.store.tx(() => {
      this.r.store.deleteVersion(name, row.num);
      this.r.store.deleteProvisioned(name, qualifier);
      this.r.store.deleteEventInvokeConfig(name, qualifier);
    });
    this.r.gc(hashesOf(row));
    this.r.emit({ functionName: name, version: qualifier, kind: 'deleted' });
  }

  private deleteAll(name: string): void {
    this.r.cancelTimer(name);
    const fn = this.r.store.getFunction(name);
    const versions = this.r.store.versionsOf(name);
    const hashes = versions.flatMap(hashesOf);
    if (fn?.previous) hashes.push(...hashesOf(fn.previous));
    this.r.store.tx(() => this.r.store.deleteFunction(name));
    this.r.gc(hashes);
    for (const v of versions) this.r.emit({ functionName: name, version: v.config.Version, kind: 'deleted' });
  }

  /** The current $LATEST, after checking the RevisionId and that no create or update is running. */
  private assertUpdatable(name: string, revision: string | undefined): VersionRow {
    const latest = this.r.latest(name);
    assertRevision(revision, latest.config.RevisionId);
    if (latest.config.State === 'Pending') throw pendingConflict();
    if (latest.config.LastUpdateStatus === 'InProgress') throw updateConflict(this.r.arn(name));
    return latest;
  }

  /** Stores the new $LATEST and keeps the old one for resolve() until the update settles. */
  private commitUpdate(name: string, latest: VersionRow, next: VersionRow): VersionRow {
    const fn = this.r.requireFunction(name);
    fn.previous = { config: latest.config, codeHash: latest.codeHash };
    if (latest.layerHashes) fn.previous.layerHashes = latest.layerHashes;
    this.r.store.putFunction(fn);
    this.r.store.putVersion(next);
    return next;
  }

  /**
   * Publishes $LATEST as the next version, or returns the last version when code and
   * configuration are unchanged since it was published.
   */
  private publishLocked(fn: FunctionRow, latest: VersionRow, description?: string): VersionRow {
    const print = fingerprint(latest.config);
    const last = fn.nextVersion > 1 ? this.r.store.getVersion(fn.name, fn.nextVersion - 1) : undefined;
    if (last && last.sourceRev === print) return last;
    const num = fn.nextVersion;
    const config: FunctionConfiguration = {
      ...settled(latest.config, false),
      Version: String(num),
      Description: description ?? latest.config.Description,
      RevisionId: revisionId(),
    };
    // A version published while the function is still being created becomes Active with it.
    if (latest.config.State === 'Pending') {
      Object.assign(config, { State: 'Pending', StateReason: 'The function is being created.', StateReasonCode: 'Creating' });
    }
    const row: VersionRow = { functionName: fn.name, num, config, codeHash: latest.codeHash, sourceRev: print };
    // A version keeps the layers $LATEST had, content included.
    if (latest.layerHashes) row.layerHashes = [...latest.layerHashes];
    this.r.store.putVersion(row);
    this.r.store.putFunction({ ...fn, nextVersion: num + 1 });
    // Lambda gives $LATEST a new RevisionId on every publish.
    this.r.store.putVersion({ ...latest, config: { ...latest.config, RevisionId: revisionId() } });
    return row;
  }

  private checkSize(zip: Buffer): void {
    checkCodeSize(this.r, zip);
  }

  /** Stores the zip, runs `commit`, and removes the code again if the commit failed. */
  private async withCode<T>(zip: Buffer, commit: (code: StoredCode) => T): Promise<T> {
    const code = await this.r.code.put(zip, this.r.limits.codeSizeUnzipped);
    let ok = false;
    try {
      const out = commit(code);
      ok = true;
      return out;
    } finally {
      this.r.code.release(code.hash);
      if (!ok) this.r.gc([code.hash]);
    }
  }
}

/** Sets a snapshot's layers: the configuration shows them (none: no `Layers` member), the row keeps their archives. */
function withLayers(row: VersionRow, layers: readonly FunctionLayer[]): void {
  if (layers.length > 0) {
    row.config.Layers = layers.map(({ Arn, CodeSize }) => ({ Arn, CodeSize }));
    row.layerHashes = layers.map((l) => l.hash);
  } else {
    delete row.config.Layers;
    delete row.layerHashes;
  }
}

/** Every archive a snapshot uses: its code and its layers. */
function hashesOf(s: { codeHash: string; layerHashes?: string[] }): string[] {
  return [s.codeHash, ...(s.layerHashes ?? [])];
}

function alreadyExists(name: string): ResourceConflictException {
  return new ResourceConflictException(`Function already exist: ${name}`);
}
