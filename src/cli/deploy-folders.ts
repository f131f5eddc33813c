/**
 * `laminar serve --functions DIR`: each subfolder of DIR deployed as a function, kept in step
 * with the folder at every start. Through the same registry calls as the API (in a cluster, each
 * a logged write), so a folder deploy is what CreateFunction and its neighbours would do.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { Laminar } from '../app.js';
import { functionArn } from '../core/arn.js';
import { ResourceConflictException, ResourceNotFoundException } from '../core/errors.js';
import type { FunctionConfiguration } from '../registry/types.js';
import {
  folderConfiguration,
  folderLayers,
  readFolderSettings,
  SETTINGS_FILE,
  zipFolder,
  type FolderConfiguration,
  type FolderLayer,
} from './package-folder.js';

/**
 * Deploys each subfolder of `dir` as a function named after it: created when new, updated only
 * where its code or settings changed, so a restart leaves warm state and RevisionIds alone.
 * Settings come from an optional `laminar.json` in the folder; the layer folders it names
 * (`LaminarLayers`) are published first, and a folder holding such layers is not a function.
 * A `LaminarSchedule` keeps an EventBridge rule named after the function, with the function as
 * its target, in step (`Schedules.applyFolderSchedule`).
 */
export async function deployFolders(laminar: Laminar, dir: string): Promise<string[]> {
  const folders = readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => {
      const folder = resolve(dir, entry.name);
      const settings = readFolderSettings(folder);
      return { name: entry.name, folder, settings, layers: folderLayers(settings, folder, dir) };
    });
  const layerDirs = folders.flatMap((f) => f.layers.map((l) => l.dir));
  const published = new Map<string, string>();
  const deployed: string[] = [];
  for (const { name, folder, settings, layers } of folders) {
    if (layerDirs.some((d) => d === folder || d.startsWith(folder + sep))) continue;
    const arns: string[] = [];
    for (const layer of layers) {
      const arn = published.get(layer.dir) ?? (await publishFolderLayer(laminar, layer));
      published.set(layer.dir, arn);
      arns.push(arn);
    }
    const wanted: FolderConfiguration = { ...folderConfiguration(settings), Layers: arns };
    const zip = await zipFolder(folder);
    let current: FunctionConfiguration | undefined;
    try {
      current = laminar.registry.getFunctionConfiguration(name);
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
    if (!current) {
      try {
        await laminar.writeRegistry(() => laminar.registry.createFunction({ FunctionName: name, Code: { ZipFile: zip }, ...wanted }));
      } catch (err) {
        // Another node of the cluster, starting on the same folder, created it first: kept as it is.
        if (!(err instanceof ResourceConflictException)) throw err;
      }
    } else {
      if (current.CodeSha256 !== sha256(zip)) {
        await laminar.writeRegistry(() => laminar.registry.updateFunctionCode(name, { ZipFile: zip }));
        await waitForUpdate(laminar, name);
      }
      if (configurationDiffers(current, wanted)) await laminar.writeRegistry(() => laminar.registry.updateFunctionConfiguration(name, wanted));
    }
    try {
      await laminar.writeRegistry(() => laminar.schedules.applyFolderSchedule(name, functionArn(laminar.config, name), settings.LaminarSchedule));
    } catch (err) {
      throw new Error(`${join(folder, SETTINGS_FILE)}: ${(err as Error).message}`, { cause: err });
    }
    deployed.push(name);
  }
  return deployed;
}

function configurationDiffers(current: FunctionConfiguration, wanted: FolderConfiguration): boolean {
  return (
    current.Handler !== wanted.Handler ||
    current.Runtime !== wanted.Runtime ||
    (wanted.MemorySize !== undefined && current.MemorySize !== wanted.MemorySize) ||
    (wanted.Timeout !== undefined && current.Timeout !== wanted.Timeout) ||
    (wanted.Description !== undefined && current.Description !== wanted.Description) ||
    JSON.stringify(current.Environment?.Variables ?? {}) !== JSON.stringify(wanted.Environment?.Variables ?? {}) ||
    JSON.stringify((current.Layers ?? []).map((l) => l.Arn)) !== JSON.stringify(wanted.Layers ?? [])
  );
}

const sha256 = (zip: Buffer): string => createHash('sha256').update(zip).digest('base64');

/** The ARN of the layer's newest version when it holds the folder's content, else of a new version. */
async function publishFolderLayer(laminar: Laminar, layer: FolderLayer): Promise<string> {
  const zip = await zipFolder(layer.dir);
  const newest = laminar.registry.listLayerVersions(layer.name, { maxItems: 1 }).items[0];
  if (newest && laminar.registry.getLayerVersion(layer.name, newest.Version).Content.CodeSha256 === sha256(zip)) return newest.LayerVersionArn;
  return (await laminar.writeRegistry(() => laminar.registry.publishLayerVersion(layer.name, { Content: { ZipFile: zip } }))).LayerVersionArn;
}

async function waitForUpdate(laminar: Laminar, name: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const c = laminar.registry.getFunctionConfiguration(name);
    if (c.State !== 'Pending' && c.LastUpdateStatus !== 'InProgress') return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
