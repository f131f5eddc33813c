/**
 * Finds and loads the user's handler from `_HANDLER`, with the Node.js runtime's rules and error
 * types (RIC `UserFunction.js` / `function/module-loader.ts`). `parseHandler` is pure; the rest
 * touches the file system and imports user code into whichever thread calls it.
 */
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { HandlerNotFound, ImportModuleError, MalformedHandlerName, UserCodeSyntaxError } from './runtime-errors.js';

/** A Lambda handler function in any of its styles (async, callback, sync). */
export type UserHandler = (event: unknown, context: object, callback: (err?: unknown, result?: unknown) => void) => unknown;

export interface ParsedHandler {
  /** The folder part before the module name (`src/api`), '' for the code root. */
  moduleRoot: string;
  /** The file name without extension (`index`). */
  moduleName: string;
  /** The property path into the module's exports (`['a', 'b', 'handler']`). */
  handlerPath: string[];
}

/** Splits `dir/file.a.b` on the basename's first dot. Throws Runtime.MalformedHandlerName. */
export function parseHandler(fullHandler: string): ParsedHandler {
  if (fullHandler.includes('..')) {
    throw new MalformedHandlerName(
      `Bad handler ${fullHandler}: '${fullHandler}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const base = basename(fullHandler);
  const dot = base.indexOf('.');
  if (base === '' || dot <= 0 || dot === base.length - 1) {
    throw new MalformedHandlerName(`Bad handler ${fullHandler}: expected <module>.<export>, e.g. index.handler`);
  }
  const moduleRoot = fullHandler.slice(0, fullHandler.length - base.length).replace(/\/+$/, '');
  const handlerPath = base.slice(dot + 1).split('.');
  if (handlerPath.some((p) => p === '')) {
    throw new MalformedHandlerName(`Bad handler ${fullHandler}: empty property name in '${base.slice(dot + 1)}'`);
  }
  return { moduleRoot, moduleName: base.slice(0, dot), handlerPath };
}

function isFile(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Imports the module the way Lambda looks it up: extensionless, `.js`, `.mjs`, `.cjs`, then a
 * Node-style resolve from the code root. `import()` lets Node decide CJS vs ESM for `.js` from
 * the nearest package.json, and resolves the module's own node_modules from its location.
 * `requireFrom` is the file named in "Require stack" when nothing is found.
 */
export async function importUserModule(codeDir: string, parsed: ParsedHandler, requireFrom: string): Promise<unknown> {
  const base = resolve(codeDir, parsed.moduleRoot, parsed.moduleName);
  const require = createRequire(requireFrom);
  try {
    // Extensionless files have no format Node's ESM loader accepts, so they go through require.
    if (isFile(base)) return require(base);
    for (const ext of ['.js', '.mjs', '.cjs']) {
      if (isFile(base + ext)) return await import(pathToFileURL(base + ext).href);
    }
    const resolved = require.resolve(parsed.moduleName, { paths: [codeDir, join(codeDir, parsed.moduleRoot)] });
    return require(resolved);
  } catch (err) {
    if (err instanceof SyntaxError) throw new UserCodeSyntaxError(err);
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') throw new ImportModuleError(err);
    throw err;
  }
}

function findIn(path: string[], root: unknown): unknown {
  let current = root;
  for (const key of path) {
    if ((typeof current !== 'object' && typeof current !== 'function') || current === null) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** Picks the handler out of the exports, falling back to `default` (CJS seen through import()). */
export function resolveHandler(moduleExports: unknown, parsed: ParsedHandler, fullHandler: string): UserHandler {
  let handler = findIn(parsed.handlerPath, moduleExports);
  if (!handler) {
    const fallback = (moduleExports as { default?: unknown } | null)?.default;
    if (fallback !== undefined) handler = findIn(parsed.handlerPath, fallback);
  }
  // Falsy, not just undefined: the RIC reports `exports.handler = 0` as "not exported" too.
  if (!handler) {
    throw new HandlerNotFound(`${fullHandler} is undefined or not exported`);
  }
  if (typeof handler !== 'function') throw new HandlerNotFound(`${fullHandler} is not a function`);
  return handler as UserHandler;
}

/** Parse, import and resolve: Lambda's Function init. Throws Runtime.* errors or the user's own. */
export async function loadHandler(codeDir: string, fullHandler: string, requireFrom: string = import.meta.url): Promise<UserHandler> {
  const parsed = parseHandler(fullHandler);
  const moduleExports = await importUserModule(codeDir, parsed, requireFrom);
  return resolveHandler(moduleExports, parsed, fullHandler);
}
