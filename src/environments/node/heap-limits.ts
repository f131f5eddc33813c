/**
 * V8 heap limits from the function's MemorySize: a young generation of about 1/16 (4–64 MB) and
 * the rest as old generation, so the whole heap stays within the configured memory.
 */
export function heapLimits(memoryMb: number): { maxOldGenerationSizeMb: number; maxYoungGenerationSizeMb: number } {
  const young = Math.min(64, Math.max(4, Math.floor(memoryMb / 16)));
  return { maxYoungGenerationSizeMb: young, maxOldGenerationSizeMb: Math.max(16, memoryMb - young) };
}
