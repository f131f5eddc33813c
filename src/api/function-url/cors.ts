/**
 * CORS of a function URL, from its config. Pure. With `Cors` set, Lambda answers preflight
 * requests itself (the function is not invoked) and puts the configured headers on every answer
 * to an allowed origin, in place of any CORS headers the function returned.
 */
import type { FunctionUrlCors } from '../../registry/types.js';

export interface CorsRequest {
  method: string;
  origin?: string;
  /** `Access-Control-Request-Method`: present on a preflight. */
  requestMethod?: string;
}

/** A preflight is an OPTIONS request that names its origin and the method it wants to use. */
export function isPreflight(r: CorsRequest): boolean {
  return r.method === 'OPTIONS' && r.origin !== undefined && r.requestMethod !== undefined;
}

function originAllowed(cors: FunctionUrlCors, origin: string): boolean {
  const allowed = cors.AllowOrigins ?? [];
  return allowed.includes('*') || allowed.some((o) => o.toLowerCase() === origin.toLowerCase());
}

/**
 * The Access-Control-Allow-Origin value: `*` when every origin is allowed (the origin itself when
 * credentials are allowed too, since browsers refuse `*` with credentials), else the origin.
 */
function allowOrigin(cors: FunctionUrlCors, origin: string): string {
  return (cors.AllowOrigins ?? []).includes('*') && cors.AllowCredentials !== true ? '*' : origin;
}

/** Headers of the answer to a preflight; none but Vary when the origin is not allowed. */
export function preflightHeaders(cors: FunctionUrlCors, r: CorsRequest): Record<string, string> {
  const origin = r.origin ?? '';
  if (!originAllowed(cors, origin)) return { vary: 'Origin' };
  const out: Record<string, string> = { 'access-control-allow-origin': allowOrigin(cors, origin) };
  if (out['access-control-allow-origin'] !== '*') out.vary = 'Origin';
  if (cors.AllowMethods && cors.AllowMethods.length > 0) out['access-control-allow-methods'] = cors.AllowMethods.join(',');
  if (cors.AllowHeaders && cors.AllowHeaders.length > 0) out['access-control-allow-headers'] = cors.AllowHeaders.join(',');
  if (cors.AllowCredentials === true) out['access-control-allow-credentials'] = 'true';
  if (cors.MaxAge !== undefined) out['access-control-max-age'] = String(cors.MaxAge);
  return out;
}

/** The CORS headers of an ordinary answer to `origin` (none for a request without one, or a refused origin). */
export function responseCorsHeaders(cors: FunctionUrlCors, origin: string | undefined): Record<string, string> {
  if (origin === undefined || !originAllowed(cors, origin)) return {};
  const out: Record<string, string> = { 'access-control-allow-origin': allowOrigin(cors, origin) };
  if (out['access-control-allow-origin'] !== '*') out.vary = 'Origin';
  if (cors.AllowCredentials === true) out['access-control-allow-credentials'] = 'true';
  if (cors.ExposeHeaders && cors.ExposeHeaders.length > 0) out['access-control-expose-headers'] = cors.ExposeHeaders.join(',');
  return out;
}

/** The function's own headers without its CORS headers, which the config replaces. */
export function withoutCorsHeaders(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.toLowerCase().startsWith('access-control-')));
}
