import { describe, expect, it } from 'vitest';
import { functionUrl, originOf, parseUrlTarget } from '../../../src/api/function-url/address.js';
import { eventBody, eventHeaders, httpEvent, queryParameters, requestTime } from '../../../src/api/function-url/event.js';
import { urlResponse } from '../../../src/api/function-url/response.js';

describe('function URL addresses', () => {
  it('splits a request target into the URL id and what the function sees', () => {
    expect(parseUrlTarget('/lambda-url/abc/a/b%20c?x=1&y')).toEqual({ urlId: 'abc', rawPath: '/a/b%20c', rawQueryString: 'x=1&y' });
    expect(parseUrlTarget('/lambda-url/abc/')).toEqual({ urlId: 'abc', rawPath: '/', rawQueryString: '' });
    expect(parseUrlTarget('/lambda-url/abc')).toEqual({ urlId: 'abc', rawPath: '/', rawQueryString: '' });
    expect(parseUrlTarget('/lambda-url/abc?q')).toEqual({ urlId: 'abc', rawPath: '/', rawQueryString: 'q' });
    expect(parseUrlTarget('/lambda-url/')).toBeUndefined();
    expect(parseUrlTarget('/2015-03-31/functions')).toBeUndefined();
  });

  it('names the listening address, loopback for a wildcard, brackets for IPv6', () => {
    expect(originOf({ address: '127.0.0.1', family: 'IPv4', port: 9000 })).toBe('http://127.0.0.1:9000');
    expect(originOf({ address: '0.0.0.0', family: 'IPv4', port: 9000 })).toBe('http://127.0.0.1:9000');
    expect(originOf({ address: '::', family: 'IPv6', port: 9000 })).toBe('http://127.0.0.1:9000');
    expect(originOf({ address: '::1', family: 'IPv6', port: 80 })).toBe('http://[::1]:80');
    expect(functionUrl('http://127.0.0.1:9000', 'abc')).toBe('http://127.0.0.1:9000/lambda-url/abc/');
  });
});

describe('the HTTP API v2.0 event', () => {
  it('lower-cases headers, joins repeated ones with commas and moves cookies apart', () => {
    expect(eventHeaders(['Host', 'h:1', 'X-A', '1', 'x-a', '2', 'Cookie', 'a=1; b=2', 'cookie', 'c=3'])).toEqual({
      headers: { host: 'h:1', 'x-a': '1,2' },
      cookies: ['a=1', 'b=2', 'c=3'],
    });
  });

  it('joins repeated query parameters with commas, decoded', () => {
    expect(queryParameters('a=1&a=2&b=x%20y&c=1+2&flag')).toEqual({ a: '1,2', b: 'x y', c: '1 2', flag: '' });
  });

  it('passes text bodies as text and anything else as base64', () => {
    expect(eventBody(undefined, 'text/plain')).toEqual({ isBase64Encoded: false });
    expect(eventBody(Buffer.alloc(0), 'text/plain')).toEqual({ isBase64Encoded: false });
    expect(eventBody(Buffer.from('{"a":1}'), 'application/json; charset=utf-8')).toEqual({ body: '{"a":1}', isBase64Encoded: false });
    expect(eventBody(Buffer.from('<a/>'), 'application/xml')).toEqual({ body: '<a/>', isBase64Encoded: false });
    expect(eventBody(Buffer.from('a=1'), 'application/x-www-form-urlencoded')).toEqual({ body: 'YT0x', isBase64Encoded: true });
    expect(eventBody(Buffer.from('text'), undefined)).toEqual({ body: 'dGV4dA==', isBase64Encoded: true });
    // Declared text that is not UTF-8 cannot travel as a JSON string.
    expect(eventBody(Buffer.from([0xff, 0xfe]), 'text/plain')).toEqual({ body: '//4=', isBase64Encoded: true });
  });

  it('formats requestContext.time as Lambda does', () => {
    expect(requestTime(Date.UTC(2020, 2, 12, 19, 3, 58))).toBe('12/Mar/2020:19:03:58 +0000');
  });

  it('assembles the event, with the IAM authorizer only for a signed request', () => {
    const facts = {
      method: 'POST',
      rawPath: '/p',
      rawQueryString: '',
      rawHeaders: ['Host', '127.0.0.1:9000', 'Content-Type', 'text/plain', 'User-Agent', 'ua'],
      body: Buffer.from('hi'),
      sourceIp: '10.0.0.1',
      protocol: 'HTTP/1.1',
      port: 9000,
      urlId: 'id',
      requestId: 'rid',
      accountId: '123456789012',
      nowMs: Date.UTC(2026, 0, 1),
    };
    const event = httpEvent(facts) as Record<string, unknown> & { requestContext: Record<string, unknown>; headers: Record<string, string> };
    expect(event).toMatchObject({ version: '2.0', routeKey: '$default', rawPath: '/p', body: 'hi', isBase64Encoded: false, pathParameters: null, stageVariables: null });
    expect(event).not.toHaveProperty('cookies');
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event.headers).toMatchObject({ 'x-forwarded-for': '10.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-port': '9000' });
    expect(event.requestContext).toMatchObject({
      accountId: 'anonymous',
      apiId: 'id',
      domainName: '127.0.0.1:9000',
      domainPrefix: 'id',
      http: { method: 'POST', path: '/p', protocol: 'HTTP/1.1', sourceIp: '10.0.0.1', userAgent: 'ua' },
      requestId: 'rid',
      time: '01/Jan/2026:00:00:00 +0000',
      timeEpoch: Date.UTC(2026, 0, 1),
    });
    expect(event.requestContext).not.toHaveProperty('authorizer');
    const signed = httpEvent({ ...facts, iam: { accessKeyId: 'AKID' } }) as { requestContext: Record<string, unknown> };
    expect(signed.requestContext).toMatchObject({ accountId: '123456789012', authorizer: { iam: { accessKey: 'AKID', accountId: '123456789012', callerId: 'AKID' } } });
  });
});

describe('the response of a function URL', () => {
  const mapped = (value: unknown) => {
    const out = urlResponse(Buffer.from(JSON.stringify(value)));
    if (!out.ok) throw new Error(out.reason);
    return { ...out.response, body: out.response.body.toString('utf8') };
  };

  it('applies an object with statusCode', () => {
    expect(mapped({ statusCode: 204 })).toEqual({ statusCode: 204, headers: { 'content-type': 'application/json' }, cookies: [], body: '' });
    expect(mapped({ statusCode: '418', headers: { 'Content-Type': 'text/plain', n: 1, skip: { a: 1 } }, cookies: ['a=1', 2], body: 'teapot' })).toEqual({
      statusCode: 418,
      headers: { 'Content-Type': 'text/plain', n: '1' },
      cookies: ['a=1'],
      body: 'teapot',
    });
    expect(mapped({ statusCode: 200, isBase64Encoded: true, body: Buffer.from('bytes').toString('base64') }).body).toBe('bytes');
    expect(mapped({ statusCode: 200, body: { a: 1 } }).body).toBe('{"a":1}');
  });

  it('makes any other value a 200 application/json: strings as text, the rest as JSON', () => {
    expect(mapped('hello')).toMatchObject({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: 'hello' });
    expect(mapped(3.1).body).toBe('3.1');
    expect(mapped(true).body).toBe('true');
    expect(mapped(null).body).toBe('null');
    expect(mapped(['hello', 3, true]).body).toBe('["hello",3,true]');
    expect(mapped({ hello: 'world' }).body).toBe('{"hello":"world"}');
  });

  it('passes bytes that are not JSON through, and refuses a statusCode that is no HTTP status', () => {
    const raw = urlResponse(Buffer.from('plain text'));
    expect(raw.ok && raw.response.body.toString()).toBe('plain text');
    for (const statusCode of ['teapot', 99, 600, 200.5]) expect(urlResponse(Buffer.from(JSON.stringify({ statusCode }))).ok).toBe(false);
  });
});
