/**
 * Opaque list markers. A marker encodes the sort key of the last item returned; the next page
 * starts strictly after it, so deletions between pages never skip or repeat items.
 */
import { InvalidParameterValueException } from '../core/errors.js';
import type { Page } from './types.js';

export type MarkerKey = [string, number];

export function encodeMarker(key: MarkerKey): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeMarker(marker: string | undefined): MarkerKey | undefined {
  if (marker === undefined || marker === '') return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(marker, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === 2 && typeof key[0] === 'string' && typeof key[1] === 'number') {
      return [key[0], key[1]];
    }
  } catch {
    // fall through to the refusal below
  }
  throw new InvalidParameterValueException(`Invalid pagination marker: ${marker}`);
}

/**
 * Builds a page from rows fetched with `limit + 1`: the extra row only tells whether another
 * page exists.
 */
export function toPage<R, T>(rows: R[], limit: number, keyOf: (row: R) => MarkerKey, map: (row: R) => T): Page<T> {
  const items = rows.slice(0, limit);
  const page: Page<T> = { items: items.map(map) };
  const last = items[items.length - 1];
  if (rows.length > limit && last !== undefined) page.nextMarker = encodeMarker(keyOf(last));
  return page;
}
