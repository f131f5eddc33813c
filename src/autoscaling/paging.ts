/**
 * MaxResults / NextToken paging for the Describe operations. The token is the offset of the next
 * item plus the operation it belongs to, so a token from one operation is refused by another.
 */
import { InvalidNextTokenException, ScalingValidationException } from './errors.js';

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export function paginate<T>(
  all: readonly T[],
  op: string,
  o: { MaxResults?: number | undefined; NextToken?: string | undefined },
  limit: number,
): Page<T> {
  const max = o.MaxResults ?? limit;
  if (max < 1 || max > limit) {
    throw new ScalingValidationException(
      `1 validation error detected: Value '${max}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and ${limit}`,
    );
  }
  let start = 0;
  if (o.NextToken !== undefined) {
    const decoded = Buffer.from(o.NextToken, 'base64url').toString('utf8');
    const m = /^(\w+):(\d+)$/.exec(decoded);
    if (!m || m[1] !== op || Number(m[2]) > all.length) throw new InvalidNextTokenException('Invalid token');
    start = Number(m[2]);
  }
  const items = all.slice(start, start + max);
  const next = start + max;
  return next < all.length ? { items, nextToken: Buffer.from(`${op}:${next}`, 'utf8').toString('base64url') } : { items };
}
