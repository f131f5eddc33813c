import { describe, expect, it } from 'vitest';
import { isPreflight, preflightHeaders, responseCorsHeaders, withoutCorsHeaders } from '../../../src/api/function-url/cors.js';

const cors = { AllowOrigins: ['https://app.example'], AllowMethods: ['GET', 'POST'], AllowHeaders: ['x-key'], ExposeHeaders: ['x-out'], MaxAge: 60 };

describe('function URL CORS', () => {
  it('recognises a preflight: OPTIONS with Origin and Access-Control-Request-Method', () => {
    expect(isPreflight({ method: 'OPTIONS', origin: 'https://a', requestMethod: 'GET' })).toBe(true);
    expect(isPreflight({ method: 'OPTIONS', origin: 'https://a' })).toBe(false);
    expect(isPreflight({ method: 'OPTIONS', requestMethod: 'GET' })).toBe(false);
    expect(isPreflight({ method: 'GET', origin: 'https://a', requestMethod: 'GET' })).toBe(false);
  });

  it('answers a preflight from an allowed origin with the configured headers', () => {
    expect(preflightHeaders(cors, { method: 'OPTIONS', origin: 'https://APP.example', requestMethod: 'POST' })).toEqual({
      'access-control-allow-origin': 'https://APP.example',
      'access-control-allow-methods': 'GET,POST',
      'access-control-allow-headers': 'x-key',
      'access-control-max-age': '60',
      vary: 'Origin',
    });
    expect(preflightHeaders(cors, { method: 'OPTIONS', origin: 'https://other.example', requestMethod: 'POST' })).toEqual({ vary: 'Origin' });
  });

  it('allows every origin with *, echoing the origin when credentials are allowed', () => {
    expect(responseCorsHeaders({ AllowOrigins: ['*'] }, 'https://x')).toEqual({ 'access-control-allow-origin': '*' });
    expect(responseCorsHeaders({ AllowOrigins: ['*'], AllowCredentials: true }, 'https://x')).toEqual({
      'access-control-allow-origin': 'https://x',
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    });
  });

  it('adds nothing for a request without Origin or from a refused one', () => {
    expect(responseCorsHeaders(cors, undefined)).toEqual({});
    expect(responseCorsHeaders(cors, 'https://other.example')).toEqual({});
    expect(responseCorsHeaders(cors, 'https://app.example')).toEqual({ 'access-control-allow-origin': 'https://app.example', 'access-control-expose-headers': 'x-out', vary: 'Origin' });
  });

  it('removes the function’s own CORS headers', () => {
    expect(withoutCorsHeaders({ 'Access-Control-Allow-Origin': '*', 'x-a': '1' })).toEqual({ 'x-a': '1' });
  });
});
