/**
 * `functionUrlCredentials`: `AKID:SECRET[,AKID:SECRET…]`. A secret may contain `:` (only the first
 * one separates), never `,`; AWS's secret access keys contain neither.
 */

/** Secret access key by access key id; throws an Error naming what is wrong, never the secret. */
export function parseCredentials(value: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (value === undefined) return out;
  value.split(',').forEach((pair, i) => {
    const colon = pair.indexOf(':');
    const id = colon === -1 ? '' : pair.slice(0, colon).trim();
    const secret = colon === -1 ? '' : pair.slice(colon + 1).trim();
    if (id === '' || secret === '' || /\s/.test(id)) {
      throw new Error(`entry ${i + 1} is not ACCESS_KEY_ID:SECRET_ACCESS_KEY`);
    }
    if (out.has(id)) throw new Error(`access key ${id} is given twice`);
    out.set(id, secret);
  });
  return out;
}
