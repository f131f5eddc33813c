/**
 * Where a function URL lives. `*.localhost` host names do not resolve for Node's `fetch` on every
 * machine (glibc leaves them to DNS), so a URL is a path on the API's own port:
 * `http://127.0.0.1:9000/lambda-url/<url-id>/`. What follows the id is the function's path.
 */

export const URL_PATH_PREFIX = '/lambda-url/';

/** The URL a config's id is served at, under `origin` (`http://host:port`, no trailing slash). */
export function functionUrl(origin: string, urlId: string): string {
  return `${origin}${URL_PATH_PREFIX}${urlId}/`;
}

export interface UrlTarget {
  urlId: string;
  /** The path the function sees (`rawPath`), still percent-encoded; `/` at least. */
  rawPath: string;
  /** Everything after `?`, as received ('' when there is none). */
  rawQueryString: string;
}

/** Splits a request target (`/lambda-url/<id>/a/b?x=1`) into the URL id and what the function sees. */
export function parseUrlTarget(requestTarget: string): UrlTarget | undefined {
  if (!requestTarget.startsWith(URL_PATH_PREFIX)) return undefined;
  const q = requestTarget.indexOf('?');
  const path = q === -1 ? requestTarget : requestTarget.slice(0, q);
  const rawQueryString = q === -1 ? '' : requestTarget.slice(q + 1);
  const rest = path.slice(URL_PATH_PREFIX.length);
  const slash = rest.indexOf('/');
  const urlId = slash === -1 ? rest : rest.slice(0, slash);
  if (urlId === '') return undefined;
  return { urlId, rawPath: slash === -1 ? '/' : rest.slice(slash), rawQueryString };
}

/**
 * The origin of the URLs this server hands out, from the address it listens on: a wildcard
 * address (all interfaces) is reached from this machine on loopback, and an IPv6 address is
 * bracketed. Numeric, so no resolver (or its `localhost` answer) stands between a client and it.
 */
export function originOf(address: { address: string; family: string; port: number }): string {
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? '127.0.0.1' : address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}
