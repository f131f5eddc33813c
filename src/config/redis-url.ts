/**
 * The one shape of Redis address cluster mode accepts, checked at start so a typo stops the node
 * with the key named instead of surfacing later as a connection error.
 */

/**
 * The URL with its user and password masked: it is printed in messages and logs. Everything up
 * to the last `@` after the scheme is masked, so a malformed URL does not leak its secret either.
 */
export function redactedRedisUrl(url: string): string {
  const at = url.lastIndexOf('@');
  if (at < 0) return url;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/{0,2}/.exec(url)?.[0] ?? '';
  return `${scheme}***${url.slice(at)}`;
}

/** Why `url` is not a Redis URL a node can connect to, or undefined when it is one. */
export function redisUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a URL';
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return `has the scheme ${parsed.protocol.slice(0, -1)}`;
  if (parsed.hostname === '') return 'names no host';
  // node-redis reads the path as the database number.
  if (parsed.pathname !== '' && parsed.pathname !== '/' && !/^\/\d+$/.test(parsed.pathname)) return 'has a path that is not a database number';
  if (parsed.search !== '' || parsed.hash !== '') return 'has a query or fragment';
  return undefined;
}
