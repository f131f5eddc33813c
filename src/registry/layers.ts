/**
 * Layers: publishing, reading, listing and deleting layer versions, and resolving the `Layers`
 * a function references. A layer version's zip lives in the code store by SHA-256 like function
 * code, extracted once. A function snapshot records the archives of its layers, so deleting a
 * layer version (allowed while functions use it, as in Lambda) leaves their copy in place; the
 * archive goes once nothing references it.
 */
import { pathToFileURL } from 'node:url';
import type { Partition } from '../core/arn.js';
import { InvalidParameterValueException, ResourceNotFoundException } from '../core/errors.js';
import { lambdaDate } from './config.js';
import { checkCodeSize, type RegistryInternals } from './internals.js';
import { decodeMarker, encodeMarker } from './paging.js';
import type { LayerMatch, LayerVersionRow } from './store.js';
import type {
  LayerFilter,
  LayersListItem,
  LayerVersion,
  LayerVersionsListItem,
  Page,
  PublishLayerVersionInput,
} from './types.js';

/** Lambda's limit on the layers of one function. */
export const MAX_FUNCTION_LAYERS = 5;

const ONLY_ZIP =
  'Laminar accepts only Content.ZipFile: upload the .zip archive of the layer inline (S3Bucket, S3Key and S3ObjectVersion are not supported).';
const NOT_FOUND = 'The resource you requested does not exist.';

const LAYER_ARN_RE = /^arn:[a-zA-Z0-9-]*:lambda:([a-z0-9-]+):(\d{12}):layer:([a-zA-Z0-9-_]+)$/;
const LAYER_VERSION_ARN_RE = /^arn:[a-zA-Z0-9-]*:lambda:([a-z0-9-]*):(\d{12})?:(?:layer|awslayer):([a-zA-Z0-9-_]+)(?::([0-9]+))?$/;

export function layerArn(p: Partition, name: string): string {
  return `arn:aws:lambda:${p.region}:${p.accountId}:layer:${name}`;
}

export function layerVersionArn(p: Partition, name: string, version: number): string {
  return `${layerArn(p, name)}:${version}`;
}

/**
 * The layer a LayerName (a name or an unversioned ARN, as the request shape allows) designates
 * here, or undefined when the ARN names another region or account: no layer of this server.
 */
function localLayerName(raw: string, p: Partition): string | undefined {
  const m = LAYER_ARN_RE.exec(raw);
  if (!m) return raw;
  return m[1] === p.region && m[2] === p.accountId ? m[3] : undefined;
}

/** Lambda refuses version numbers below 1 before it looks the layer up. */
function assertVersionNumber(version: number): void {
  if (!Number.isSafeInteger(version) || version < 1) throw new InvalidParameterValueException('Layer Version Cannot be less than 1');
}

function listItem(p: Partition, row: LayerVersionRow): LayerVersionsListItem {
  const { Description, CreatedDate, CompatibleRuntimes, CompatibleArchitectures, LicenseInfo } = row.info;
  const item: LayerVersionsListItem = {
    LayerVersionArn: layerVersionArn(p, row.layerName, row.version),
    Version: row.version,
    Description,
    CreatedDate,
  };
  // Lists given (even empty ones) are reported as given; absent ones stay absent, as in Lambda.
  if (CompatibleRuntimes !== undefined) item.CompatibleRuntimes = [...CompatibleRuntimes];
  if (CompatibleArchitectures !== undefined) item.CompatibleArchitectures = [...CompatibleArchitectures];
  if (LicenseInfo !== undefined) item.LicenseInfo = LicenseInfo;
  return item;
}

/** A function's reference to one layer version: what its configuration shows and what it keeps. */
export interface FunctionLayer {
  Arn: string;
  CodeSize: number;
  hash: string;
}

export class LayerOps {
  constructor(private readonly r: RegistryInternals) {}

  private get p(): Partition {
    return this.r.partition;
  }

  /** Publishes the next version of `rawName` (a new layer starts at 1; numbers are never reused). */
  async publish(rawName: string, input: PublishLayerVersionInput): Promise<LayerVersion> {
    const name = localLayerName(rawName, this.p);
    if (name === undefined) {
      throw new InvalidParameterValueException(`Laminar publishes layers in region ${this.p.region} of account ${this.p.accountId} only: ${rawName}`);
    }
    const c = input.Content;
    if (c.S3Bucket !== undefined || c.S3Key !== undefined || c.S3ObjectVersion !== undefined || c.ZipFile === undefined) {
      throw new InvalidParameterValueException(ONLY_ZIP);
    }
    const zip = Buffer.isBuffer(c.ZipFile) ? c.ZipFile : Buffer.from(c.ZipFile);
    checkCodeSize(this.r, zip);
    const code = await this.r.code.put(zip, this.r.limits.codeSizeUnzipped);
    let row: LayerVersionRow | undefined;
    try {
      row = this.r.store.tx(() => {
        const info: LayerVersionRow['info'] = {
          Description: input.Description ?? '',
          CreatedDate: lambdaDate(this.r.clock.now()),
          CodeSha256: code.sha256,
          CodeSize: code.size,
        };
        if (input.CompatibleRuntimes !== undefined) info.CompatibleRuntimes = [...input.CompatibleRuntimes];
        if (input.CompatibleArchitectures !== undefined) info.CompatibleArchitectures = [...input.CompatibleArchitectures];
        if (input.LicenseInfo !== undefined) info.LicenseInfo = input.LicenseInfo;
        const next: LayerVersionRow = { layerName: name, version: this.r.store.nextLayerVersion(name), codeHash: code.hash, info };
        this.r.store.putLayerVersion(next);
        return next;
      });
    } finally {
      this.r.code.release(code.hash);
      if (!row) this.r.gc([code.hash]);
    }
    return this.present(row);
  }

  get(rawName: string, version: number): LayerVersion {
    assertVersionNumber(version);
    const name = localLayerName(rawName, this.p);
    const row = name === undefined ? undefined : this.r.store.getLayerVersion(name, version);
    if (!row) throw new ResourceNotFoundException(NOT_FOUND);
    return this.present(row);
  }

  /** GetLayerVersionByArn: the shape has checked that the ARN is versioned. */
  getByArn(arn: string): LayerVersion {
    const m = LAYER_VERSION_ARN_RE.exec(arn);
    if (!m || m[4] === undefined || m[1] !== this.p.region || m[2] !== this.p.accountId || arn.includes(':awslayer:')) {
      throw new ResourceNotFoundException(NOT_FOUND);
    }
    return this.get(m[3] as string, Number(m[4]));
  }

  /** Deleting a version that does not exist (any more) succeeds, as in Lambda. */
  delete(rawName: string, version: number): void {
    assertVersionNumber(version);
    const name = localLayerName(rawName, this.p);
    if (name === undefined) return;
    const row = this.r.store.getLayerVersion(name, version);
    if (!row) return;
    this.r.store.tx(() => this.r.store.deleteLayerVersion(name, version));
    this.r.gc([row.codeHash]);
  }

  /** ListLayerVersions: newest first; an unknown layer has no versions (not an error, as in Lambda). */
  listVersions(rawName: string, f: LayerFilter): Page<LayerVersionsListItem> {
    const limit = f.maxItems ?? 50;
    const name = localLayerName(rawName, this.p);
    if (name === undefined) return { items: [] };
    const before = decodeMarker(f.marker)?.[1] ?? Number.MAX_SAFE_INTEGER;
    const rows = this.r.store.layerVersionsPage(name, before, match(f), limit + 1);
    return this.page(rows, limit, (row) => listItem(this.p, row));
  }

  /** ListLayers: each layer with its newest version that matches the filters, by name. */
  list(f: LayerFilter): Page<LayersListItem> {
    const limit = f.maxItems ?? 50;
    const after = decodeMarker(f.marker)?.[0] ?? '';
    const rows = this.r.store.layersPage(after, match(f), limit + 1);
    return this.page(rows, limit, (row) => ({
      LayerName: row.layerName,
      LayerArn: layerArn(this.p, row.layerName),
      LatestMatchingVersion: listItem(this.p, row),
    }));
  }

  /**
   * Resolves a function's `Layers` (the shape has checked each ARN's form) in Lambda's order of
   * checks and words: the count, then per ARN its region, its existence, and whether an earlier
   * ARN named another version of the same layer.
   */
  resolveForFunction(arns: readonly string[]): FunctionLayer[] {
    if (arns.length > MAX_FUNCTION_LAYERS) throw new InvalidParameterValueException(`Cannot reference more than ${MAX_FUNCTION_LAYERS} layers.`);
    const seen = new Map<string, string>();
    const out: FunctionLayer[] = [];
    for (const arn of arns) {
      const m = LAYER_VERSION_ARN_RE.exec(arn);
      const [, region, account, name, version] = m ?? [];
      if (account === this.p.accountId && region !== this.p.region) {
        throw new InvalidParameterValueException(
          `Layers are not in the same region as the function. Layers are expected to be in region ${this.p.region}.`,
        );
      }
      const row =
        m && account === this.p.accountId && name !== undefined && version !== undefined && !arn.includes(':awslayer:')
          ? this.r.store.getLayerVersion(name, Number(version))
          : undefined;
      if (!row) throw new InvalidParameterValueException(`Layer version ${arn} does not exist.`);
      const unversioned = arn.slice(0, arn.lastIndexOf(':'));
      const earlier = seen.get(unversioned);
      if (earlier !== undefined) {
        throw new InvalidParameterValueException(
          `Two different versions of the same layer are not allowed to be referenced in the same function. ${earlier} and ${arn} are versions of the same layer.`,
        );
      }
      seen.set(unversioned, arn);
      out.push({ Arn: layerVersionArn(this.p, row.layerName, row.version), CodeSize: row.info.CodeSize, hash: row.codeHash });
    }
    return out;
  }

  private present(row: LayerVersionRow): LayerVersion {
    const { LayerVersionArn, Version, Description, CreatedDate, ...lists } = listItem(this.p, row);
    return {
      LayerArn: layerArn(this.p, row.layerName),
      LayerVersionArn,
      Version,
      Description,
      CreatedDate,
      ...lists,
      // A file URL of the archive; the API turns it into a URL of its own, as for GetFunction.
      Content: { Location: pathToFileURL(this.r.code.zipPath(row.codeHash)).href, CodeSha256: row.info.CodeSha256, CodeSize: row.info.CodeSize },
    };
  }

  private page<T>(rows: LayerVersionRow[], limit: number, map: (row: LayerVersionRow) => T): Page<T> {
    const items = rows.slice(0, limit);
    const page: Page<T> = { items: items.map(map) };
    const last = items[items.length - 1];
    if (rows.length > limit && last !== undefined) page.nextMarker = encodeMarker([last.layerName, last.version]);
    return page;
  }
}

function match(f: LayerFilter): LayerMatch {
  const m: LayerMatch = {};
  if (f.compatibleRuntime !== undefined) m.runtime = f.compatibleRuntime;
  if (f.compatibleArchitecture !== undefined) m.architecture = f.compatibleArchitecture;
  return m;
}
