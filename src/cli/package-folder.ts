import { createReadStream, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import yazl from 'yazl';
import { validationMessage } from '../core/errors.js';
import { parseScheduleExpression } from '../core/schedule-expression.js';
import { compileShape } from '../core/shape.js';
import { FolderSettingsShape } from '../registry/shapes.js';

/** Fixed timestamp for every entry so the same folder always zips to the same bytes (and CodeSha256). */
const FIXED_MTIME = new Date(Date.UTC(2020, 0, 1));

function walk(dir: string, root: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, root, out);
    else if (entry.isFile()) out.push(relative(root, full));
  }
}

/** The folder's deployment settings; configuration, not code, so it stays out of the zip. */
export const SETTINGS_FILE = 'laminar.json';

/** Zips a folder deterministically (sorted entries, fixed mtimes, modes kept), without its settings file. */
export async function zipFolder(dir: string): Promise<Buffer> {
  const files: string[] = [];
  walk(dir, dir, files);
  const zip = new yazl.ZipFile();
  for (const file of files.filter((f) => f !== SETTINGS_FILE)) {
    const full = join(dir, file);
    zip.addReadStream(createReadStream(full), file.split(sep).join('/'), { mtime: FIXED_MTIME, mode: statSync(full).mode });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Optional per-folder settings in `laminar.json`, with the same names as CreateFunction. */
export interface FolderSettings {
  Handler?: string;
  Runtime?: string;
  MemorySize?: number;
  Timeout?: number;
  Description?: string;
  Environment?: { Variables?: Record<string, string> };
  /** Folders, relative to this one, published as layers the function uses in this order. */
  LaminarLayers?: string[];
  /** `rate(…)` or `cron(…)`: `serve --functions` runs the function on it (an EventBridge rule named after the function). */
  LaminarSchedule?: string;
}

export function readFolderSettings(dir: string): FolderSettings {
  const file = join(dir, SETTINGS_FILE);
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  // The same shape the API checks, so a folder cannot store what CreateFunction would refuse.
  const out = checkSettings(parsed);
  if (!out.ok) throw new Error(`${file}: ${out.kind === 'type' ? out.message : validationMessage(out.violations)}`);
  const schedule = out.value.LaminarSchedule;
  if (schedule !== undefined) {
    const expression = parseScheduleExpression(schedule, { kinds: ['rate', 'cron'] });
    if (!expression.ok) {
      throw new Error(
        `${file}: LaminarSchedule '${schedule}' is not a schedule (${expression.why}); ` +
          'use rate(N minute|minutes|hour|hours|day|days) or cron(minutes hours day-of-month month day-of-week year).',
      );
    }
  }
  return out.value;
}

const checkSettings = compileShape<FolderSettings>(FolderSettingsShape);

/** Command-line overrides of a folder's settings. */
export interface SettingsOverrides {
  handler?: string;
  runtime?: string;
  memory?: number;
  timeout?: number;
  variables?: Record<string, string>;
}

/** The function configuration a folder asks for: flags over `laminar.json` over defaults. */
export interface FolderConfiguration {
  Handler: string;
  Runtime: string;
  MemorySize?: number;
  Timeout?: number;
  Description?: string;
  Environment?: { Variables: Record<string, string> };
  /** Layer version ARNs, in order. */
  Layers?: string[];
}

export function folderConfiguration(settings: FolderSettings, o: SettingsOverrides = {}): FolderConfiguration {
  const memory = o.memory ?? settings.MemorySize;
  const timeout = o.timeout ?? settings.Timeout;
  const variables = o.variables ?? settings.Environment?.Variables;
  return {
    Handler: o.handler ?? settings.Handler ?? 'index.handler',
    Runtime: o.runtime ?? settings.Runtime ?? 'nodejs20.x',
    ...(memory !== undefined ? { MemorySize: memory } : {}),
    ...(timeout !== undefined ? { Timeout: timeout } : {}),
    ...(settings.Description !== undefined ? { Description: settings.Description } : {}),
    ...(variables ? { Environment: { Variables: variables } } : {}),
  };
}

/** A folder that `serve --functions` publishes as a layer, named after the folder. */
export interface FolderLayer {
  name: string;
  dir: string;
}

/**
 * The layer folders `settings` names for the function folder `dir`: each must be a folder
 * inside `root` (the folder of functions), other than `dir` itself.
 */
export function folderLayers(settings: FolderSettings, dir: string, root: string): FolderLayer[] {
  const base = resolve(root);
  return (settings.LaminarLayers ?? []).map((given) => {
    const layerDir = resolve(dir, given);
    const where = `${join(dir, SETTINGS_FILE)}: LaminarLayers entry "${given}"`;
    if (!layerDir.startsWith(base + sep) || layerDir === resolve(dir)) {
      throw new Error(`${where} must name a folder inside ${base} other than the function's own`);
    }
    if (!existsSync(layerDir) || !statSync(layerDir).isDirectory()) throw new Error(`${where} is not a folder: ${layerDir}`);
    return { name: basename(layerDir), dir: layerDir };
  });
}
