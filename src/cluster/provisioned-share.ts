/**
 * How a cluster spreads provisioned concurrency: N environments for a config means N in the
 * cluster, split over the live nodes. Pure, so every node computes the same split from the same
 * list of nodes without asking anyone: each node creates its own share.
 *
 * Each of k nodes gets floor(N / k); the N mod k left over go one each to the first nodes of an
 * order that starts at a place chosen by a hash of the config, so that the remainders of many
 * configs do not all land on the first node.
 */

/** The key a config's share is hashed by: its function and qualifier. */
export function configKey(functionName: string, qualifier: string): string {
  return `${functionName}:${qualifier}`;
}

/** FNV-1a, 32 bits: the same number on every node and every run, for any string. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The environments of a config of `requested` that node `selfId` keeps, given the live nodes
 * `nodeIds` (sorted the same way on every node). A node absent from the list keeps none.
 */
export function shareOf(nodeIds: readonly string[], selfId: string, requested: number, key: string): number {
  const k = nodeIds.length;
  const index = nodeIds.indexOf(selfId);
  if (index < 0 || requested <= 0) return 0;
  const base = Math.floor(requested / k);
  const remainder = requested % k;
  // Rank of this node in the order that starts at the config's offset.
  const rank = (index - (hash32(key) % k) + k) % k;
  return base + (rank < remainder ? 1 : 0);
}
