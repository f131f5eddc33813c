/**
 * Lets a Node.js function `import` packages from its layers. `require` finds them through
 * NODE_PATH, which the environment variables already list; the ESM loader ignores NODE_PATH, so
 * bare specifiers that Node's own resolution cannot find are tried again in the layers'
 * node_modules folders, in NODE_PATH's order. Node's resolution runs first, so the function's own
 * node_modules win over a layer's, and a package found nowhere fails with Node's own error.
 *
 * The hooks run on Node's loader thread (`module.register`), which costs a thread and some
 * milliseconds of Init; it is started only for functions whose layers hold Node.js packages.
 */
import { existsSync } from 'node:fs';
import { register, type InitializeHook, type ResolveHook } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

interface HookData {
  /** Absolute node_modules folders, in NODE_PATH's order. */
  dirs: string[];
}

/**
 * Installs the hooks in the calling thread when any of `dirs` exists; returns whether it did.
 * Called by the runtime before it imports the handler.
 */
export function registerLayerModules(dirs: readonly string[]): boolean {
  const present = dirs.filter((dir) => existsSync(dir));
  if (present.length === 0) return false;
  const data: HookData = { dirs: present };
  register(import.meta.url, { data });
  return true;
}

let searched: { parentURL: string; prefix: string }[] = [];

export const initialize: InitializeHook<HookData> = (data) => {
  searched = data.dirs.map((dir) => ({
    // A module beside `dir`: Node's lookup from it starts in `dir` itself.
    parentURL: pathToFileURL(join(dirname(dir), 'laminar-layer.mjs')).href,
    prefix: `${pathToFileURL(dir).href}/`,
  }));
};

/** A package name (`pkg`, `@scope/pkg/sub`), not a path, URL, builtin scheme or `#import`. */
function isBare(specifier: string): boolean {
  return !/^(?:\.|\/|#|[a-zA-Z][a-zA-Z0-9+.-]*:)/.test(specifier);
}

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (!isBare(specifier) || (err as { code?: unknown } | null)?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    for (const { parentURL, prefix } of searched) {
      try {
        const found = await nextResolve(specifier, { ...context, parentURL });
        // Node's lookup climbs above `dir`; only what lies inside it counts for this entry.
        if (found.url.startsWith(prefix)) return found;
      } catch {
        // not in this folder: try the next one
      }
    }
    throw err;
  }
};
