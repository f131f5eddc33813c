/**
 * How a function's result becomes the HTTP response of its URL (Lambda's "response payload
 * format"). Pure. An object with `statusCode` describes the response: status, headers, cookies
 * (one Set-Cookie each), body (base64 when `isBase64Encoded`). Anything else is a 200
 * `application/json` whose body is the result: a JSON string as its text, other values as JSON.
 */

export interface UrlResponse {
  statusCode: number;
  /** Header names as the function spelled them. */
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

export type MappedResponse = { ok: true; response: UrlResponse } | { ok: false; reason: string };

const JSON_TYPE = 'application/json';

function statusOf(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined;
}

function headersOf(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[name] = String(v);
  }
  return out;
}

function bodyOf(value: unknown, base64: boolean): Buffer {
  if (value === undefined || value === null) return Buffer.alloc(0);
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return base64 ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
}

const hasHeader = (headers: Record<string, string>, name: string): boolean => Object.keys(headers).some((h) => h.toLowerCase() === name);

export function urlResponse(payload: Buffer): MappedResponse {
  let result: unknown;
  try {
    result = JSON.parse(payload.toString('utf8'));
  } catch {
    // A custom runtime may answer bytes that are not JSON: they are the body, as they came.
    return { ok: true, response: { statusCode: 200, headers: { 'content-type': JSON_TYPE }, cookies: [], body: payload } };
  }
  if (typeof result === 'object' && result !== null && !Array.isArray(result) && 'statusCode' in result) {
    const r = result as Record<string, unknown>;
    const statusCode = statusOf(r.statusCode);
    if (statusCode === undefined) return { ok: false, reason: `statusCode ${JSON.stringify(r.statusCode)} is not an HTTP status` };
    const headers = headersOf(r.headers);
    if (!hasHeader(headers, 'content-type')) headers['content-type'] = JSON_TYPE;
    const cookies = Array.isArray(r.cookies) ? r.cookies.filter((c): c is string => typeof c === 'string') : [];
    return { ok: true, response: { statusCode, headers, cookies, body: bodyOf(r.body, r.isBase64Encoded === true) } };
  }
  const body = typeof result === 'string' ? result : JSON.stringify(result);
  return { ok: true, response: { statusCode: 200, headers: { 'content-type': JSON_TYPE }, cookies: [], body: Buffer.from(body, 'utf8') } };
}
