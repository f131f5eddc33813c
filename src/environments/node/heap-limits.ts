/**
 * V8 heap limits from the function's MemorySize: a young generation of about 1/16 (4–64 MB) and
 * the rest as old generation, so the whole heap stays within the configured memory.
 */
export function heapLimits(memoryMb: number): { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } {
  const young = Math.min(64, Math.max(4, Math.floor(memoryMb / 16)));
  return { maxYoungGenerationSizeMb: young, maxOldGenerationSizeMb: Math.max(16, memoryMb - young) };
}

/**
 * The V8 flags a Node.js runtime process starts with for `memoryMb`: its heap limit, and no
 * memory reducer. The reducer runs major garbage collections in an isolate that allocates
 * slowly, to give memory back while it idles; an environment among a hundred others serves a few
 * dozen invocations a second and looks idle to it, so it marked and swept the whole heap again
 * and again (at 100 environments about a fifth of each runtime's CPU per invocation). A Lambda
 * environment keeps its heap between invocations anyway; Max Memory Used is a peak either way.
 * The flag is not one that makes V8 reject Node.js's code cache: starting costs the same.
 */
export function nodeRuntimeFlags(memoryMb: number): string[] {
  return [`--max-old-space-size=${heapLimits(memoryMb).maxOldGenerationSizeMb}`, '--no-memory-reducer'];
}
