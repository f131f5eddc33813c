/**
 * Where a function's layers stand in for Lambda's `/opt`. Lambda extracts the layers in order into
 * one `/opt`, a later layer's files overwriting an earlier one's; Laminar keeps each layer in its
 * own folder, so every search path lists the layers latest first: the file a later layer put at a
 * path is the one found there, as in the merged folder.
 */
import { join } from 'node:path';

/** Names the layer folders, in the order Lambda merges them, for runtimes that look for `/opt/...` themselves. */
export const OPT_DIRS_VARIABLE = 'LAMINAR_OPT_DIRS';

function latestFirst(layerDirs: readonly string[]): string[] {
  return [...layerDirs].reverse();
}

/** `/opt/bin` of the merged layers. */
export function layerBinDirs(layerDirs: readonly string[]): string[] {
  return latestFirst(layerDirs).map((dir) => join(dir, 'bin'));
}

/** `/opt/lib` of the merged layers. */
export function layerLibDirs(layerDirs: readonly string[]): string[] {
  return latestFirst(layerDirs).map((dir) => join(dir, 'lib'));
}

/**
 * Lambda's NODE_PATH entries for layers, `/opt/nodejs/node20/node_modules` before
 * `/opt/nodejs/node_modules`, each expanded to the layers latest first.
 */
export function layerNodeModulesDirs(layerDirs: readonly string[], nodeMajor: number = Number(process.versions.node.split('.')[0])): string[] {
  const latest = latestFirst(layerDirs);
  return [
    ...latest.map((dir) => join(dir, 'nodejs', `node${nodeMajor}`, 'node_modules')),
    ...latest.map((dir) => join(dir, 'nodejs', 'node_modules')),
  ];
}
