/**
 * Requests to function URLs, end to end: a real server, URL configs made with the real SDK, and
 * requests made as users make them (Node's fetch, node:http for repeated headers, curl).
 */
import { execFile } from 'node:child_process';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  CreateAliasCommand,
  CreateFunctionUrlConfigCommand,
  DeleteAliasCommand,
  DeleteFunctionCommand,
  GetFunctionUrlConfigCommand,
  PublishVersionCommand,
  PutFunctionConcurrencyCommand,
  UpdateFunctionUrlConfigCommand,
} from '@aws-sdk/client-lambda';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';
import { sample, scrape } from '../helpers/metrics.js';

const run = promisify(execFile);

/** SHA-256 (HMAC when given a key) in the shape the signer takes, as the SDK's Node hash is. */
class Sha256 {
  private h: Hash | Hmac;
  constructor(private readonly key?: string | ArrayBuffer | ArrayBufferView) {
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    if (this.key === undefined) return createHash('sha256');
    return createHmac('sha256', typeof this.key === 'string' ? this.key : Buffer.from(this.key as Uint8Array));
  }
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    this.h = this.fresh();
  }
}
const ACCESS_KEY = 'AKIDLAMINARURLTEST';
const SECRET = 'url-test-secret/with+chars';

let h: Harness;
let fn: string;
let url: string;

beforeAll(async () => {
  h = await startLaminar({ functionUrlCredentials: `${ACCESS_KEY}:${SECRET},OTHERKEY:other-secret` });
  fn = await deployFixture(h.client, 'http');
  url = (await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: fn, AuthType: 'NONE' }))).FunctionUrl as string;
}, 60_000);
afterAll(async () => h?.close());

interface HttpEvent {
  version: string;
  routeKey: string;
  rawPath: string;
  rawQueryString: string;
  cookies?: string[];
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: string;
    stage: string;
    time: string;
    timeEpoch: number;
    authorizer?: { iam: { accessKey: string; accountId: string } };
  };
  body?: string;
  isBase64Encoded: boolean;
}

const eventOf = async (res: Response): Promise<HttpEvent> => ((await res.json()) as { event: HttpEvent }).event;

/** A request through node:http, which sends a header given as a list as one line per value. */
function rawRequest(target: string, headers: Record<string, string | string[]>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(target, { headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('a function URL', () => {
  it('is an absolute URL on the API port that Node fetch and curl reach as returned', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/lambda-url\/[a-z0-9]{32}\/$/);
    expect(new URL(url).port).toBe(new URL(h.url).port);
    expect((await fetch(url)).status).toBe(200);
    const { stdout } = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', url]);
    expect(stdout).toBe('200');
    // Every method reaches the function; HEAD is answered without a body.
    for (const method of ['DELETE', 'PATCH', 'HEAD']) {
      const res = await fetch(`${url}m`, { method });
      expect(res.status, method).toBe(200);
      if (method !== 'HEAD') expect((await eventOf(res)).requestContext.http.method, method).toBe(method);
      else expect(await res.text()).toBe('');
    }
  });

  it('turns a GET into a version 2.0 event: path, query string, cookies, comma-joined headers', async () => {
    const res = await rawRequest(`${url}a/b%20c?x=1&x=2&y=hello%20world&flag`, {
      cookie: 'session=abc; theme=dark',
      'x-multi': ['one', 'two'],
      'user-agent': 'laminar-test/1.0',
    });
    expect(res.status).toBe(200);
    const event = (JSON.parse(res.body) as { event: HttpEvent }).event;
    const id = new URL(url).pathname.split('/')[2];
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/a/b%20c',
      rawQueryString: 'x=1&x=2&y=hello%20world&flag',
      cookies: ['session=abc', 'theme=dark'],
      queryStringParameters: { x: '1,2', y: 'hello world', flag: '' },
      isBase64Encoded: false,
    });
    expect(event.body).toBeUndefined();
    expect(event.headers['x-multi']).toBe('one,two');
    expect(event.headers['user-agent']).toBe('laminar-test/1.0');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(event.requestContext).toMatchObject({
      accountId: 'anonymous',
      apiId: id,
      domainName: new URL(url).host,
      domainPrefix: id,
      http: { method: 'GET', path: '/a/b%20c', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'laminar-test/1.0' },
      routeKey: '$default',
      stage: '$default',
    });
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(60_000);
  });

  it('passes a POST body as text, with the request id of the invocation', async () => {
    const res = await fetch(`${url}orders?dry=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"item":"tea"}' });
    const event = await eventOf(res);
    expect(event.requestContext.http.method).toBe('POST');
    expect(event.rawPath).toBe('/orders');
    expect(event.body).toBe('{"item":"tea"}');
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext.requestId).toBe(res.headers.get('x-amzn-requestid'));
  });

  it('passes a binary body as base64', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
    const event = await eventOf(await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes }));
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body as string, 'base64').equals(bytes)).toBe(true);
  });

  it('applies a response object: status, headers, cookies as Set-Cookie, body', async () => {
    const res = await fetch(`${url}custom`);
    expect(res.status).toBe(201);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(res.headers.get('x-custom')).toBe('yes');
    expect(res.headers.get('x-number')).toBe('7');
    // Headers and cookies that HTTP cannot carry (a line break, a space in a name) are left out.
    expect(res.headers.getSetCookie()).toEqual(['session=abc; Path=/; HttpOnly', 'theme=dark']);
    expect(res.headers.get('x-bad')).toBeNull();
    expect(await res.text()).toBe('created');
  });

  it('decodes a base64 response body', async () => {
    const res = await fetch(`${url}binary`);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(Array.from({ length: 256 }, (_, i) => i)))).toBe(true);
  });

  it('answers any other result as a 200 application/json: a string as its text, other values as JSON', async () => {
    for (const [path, body] of [
      ['string', 'hello'],
      ['number', '42'],
      ['list', '["hello",3,true]'],
      // An object without statusCode is the body itself, not a response description.
      ['with-body-no-status', '{"body":"not a response","headers":{"x-ignored":"yes"}}'],
    ] as const) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toBe('application/json');
      expect(res.headers.get('x-ignored'), path).toBeNull();
      expect(await res.text(), path).toBe(body);
    }
  });

  it('answers a function error, or a result that is no HTTP response, with 502', async () => {
    for (const path of ['throw', 'bad-status']) {
      const res = await fetch(`${url}${path}`);
      expect(res.status, path).toBe(502);
      expect(await res.text(), path).toBe('Internal Server Error');
    }
    const res = await fetch(`${url}throw`);
    expect(res.headers.get('x-laminar-function-error')).toBe('Error');
  });

  it('answers a throttle with 429: reserved concurrency 0', async () => {
    const zero = await deployFixture(h.client, 'http');
    const zeroUrl = (await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: zero, AuthType: 'NONE' }))).FunctionUrl as string;
    await h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: zero, ReservedConcurrentExecutions: 0 }));
    const res = await fetch(zeroUrl);
    expect(res.status).toBe(429);
    expect(res.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('x-laminar-throttle-reason')).toBe('ReservedFunctionConcurrentInvocationLimitExceeded');
    expect(await res.json()).toEqual({ Message: 'Rate Exceeded.' });
  });

  it('refuses a request whose event would exceed 6 MB with 413, without invoking', async () => {
    const invocations = async () => sample(await scrape(h.url), 'laminar_invocations_total', { function: fn });
    const before = await invocations();
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(6 * 1024 * 1024) });
    expect(res.status).toBe(413);
    expect(res.headers.get('x-amzn-errortype')).toBe('RequestTooLargeException');
    expect(await res.json()).toEqual({ Message: 'Request must be smaller than 6291456 bytes for the InvokeFunction operation' });
    expect(await invocations()).toBe(before);
  });

  it('answers 403 {"Message":null} at an address that is no function URL', async () => {
    const res = await fetch(`${new URL(h.url).origin}/lambda-url/${'0'.repeat(32)}/`);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
    expect(await res.text()).toBe('{"Message":null}');
  });

  it('counts requests, 4xx, 5xx and latency per function', async () => {
    const name = await deployFixture(h.client, 'http');
    const u = (await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE' }))).FunctionUrl as string;
    await fetch(`${u}string`);
    await fetch(`${u}throw`);
    await fetch(`${u}throw`);
    const m = await scrape(h.url);
    const labels = { function: name, qualifier: '$LATEST' };
    expect(sample(m, 'laminar_url_requests_total', labels)).toBe(3);
    expect(sample(m, 'laminar_url_4xx_responses_total', labels)).toBe(0);
    expect(sample(m, 'laminar_url_5xx_responses_total', labels)).toBe(2);
    expect(sample(m, 'laminar_url_request_duration_seconds_count', labels)).toBe(3);
    // The invocations behind them count as invocations, through the same scheduler.
    expect(sample(m, 'laminar_invocations_total', { function: name })).toBe(3);
    expect(sample(m, 'laminar_errors_total', { function: name })).toBe(2);
  });
});

describe('CORS', () => {
  let corsUrl = '';
  beforeAll(async () => {
    const name = await deployFixture(h.client, 'http');
    corsUrl = (
      await h.client.send(
        new CreateFunctionUrlConfigCommand({
          FunctionName: name,
          AuthType: 'NONE',
          Cors: {
            AllowOrigins: ['https://app.example'],
            AllowMethods: ['GET', 'POST'],
            AllowHeaders: ['x-api-key', 'content-type'],
            ExposeHeaders: ['x-custom'],
            AllowCredentials: true,
            MaxAge: 600,
          },
        }),
      )
    ).FunctionUrl as string;
  }, 30_000);

  it('answers a preflight itself, without invoking the function', async () => {
    const before = sample(await scrape(h.url), 'laminar_invocations_total', {});
    const res = await fetch(corsUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-allow-methods')).toBe('GET,POST');
    expect(res.headers.get('access-control-allow-headers')).toBe('x-api-key,content-type');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-max-age')).toBe('600');
    expect(await res.text()).toBe('');
    expect(sample(await scrape(h.url), 'laminar_invocations_total', {})).toBe(before);
  });

  it('puts the configured headers on answers to an allowed origin, in place of the function’s', async () => {
    const res = await fetch(`${corsUrl}cors-headers`, { headers: { origin: 'https://app.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-expose-headers')).toBe('x-custom');
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    const other = await fetch(`${corsUrl}cors-headers`, { headers: { origin: 'https://elsewhere.example' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(corsUrl, { method: 'OPTIONS', headers: { origin: 'https://elsewhere.example', 'access-control-request-method': 'GET' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('leaves OPTIONS and CORS headers to the function when the URL has no Cors', async () => {
    const res = await fetch(`${url}cors-headers`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('https://function.example');
    expect(await res.text()).toBe('x');
  });
});

describe('AuthType AWS_IAM', () => {
  let iamUrl = '';
  beforeAll(async () => {
    const name = await deployFixture(h.client, 'http');
    await h.client.send(new PublishVersionCommand({ FunctionName: name }));
    await h.client.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }));
    iamUrl = (await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, Qualifier: 'live', AuthType: 'AWS_IAM' }))).FunctionUrl as string;
  }, 30_000);

  /** The query as the SDK's HttpRequest holds it: repeated keys as lists. */
  function queryOf(params: URLSearchParams): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const key of new Set(params.keys())) {
      const all = params.getAll(key);
      out[key] = all.length === 1 ? (all[0] as string) : all;
    }
    return out;
  }

  /**
   * Signs a request to `target` with the AWS SDK's signer and sends it with fetch; `send`
   * replaces the body after signing. With `applyChecksum` the signer signs X-Amz-Content-Sha256.
   */
  async function signedFetch(
    target: string,
    o: { method?: string; body?: string; send?: string; secret?: string; accessKeyId?: string; headers?: Record<string, string>; applyChecksum?: boolean } = {},
  ): Promise<Response> {
    const u = new URL(target);
    const signer = new SignatureV4({
      service: 'lambda',
      region: 'us-east-1',
      credentials: { accessKeyId: o.accessKeyId ?? ACCESS_KEY, secretAccessKey: o.secret ?? SECRET },
      sha256: Sha256,
      applyChecksum: o.applyChecksum ?? false,
    });
    const signed = await signer.sign({
      method: o.method ?? 'GET',
      protocol: u.protocol,
      hostname: u.hostname,
      port: Number(u.port),
      path: u.pathname,
      query: queryOf(u.searchParams),
      headers: { host: u.host, ...(o.headers ?? {}) },
      ...(o.body !== undefined ? { body: o.body } : {}),
    });
    const body = o.send ?? o.body;
    return fetch(target, { method: o.method ?? 'GET', headers: signed.headers, ...(body !== undefined ? { body } : {}) });
  }

  it('refuses an unsigned request with 403', async () => {
    const res = await fetch(iamUrl);
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
    expect(((await res.json()) as { Message: string }).Message).toMatch(/^Forbidden\./);
    expect(res.headers.get('x-laminar-auth-error')).toMatch(/not signed/);
  });

  it('accepts a request signed by the SDK’s signer and tells the function who signed it', async () => {
    const res = await signedFetch(`${iamUrl}items/a%20b?q=1&q=2&name=x%2By`, {
      method: 'POST',
      body: '{"signed":true}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(200);
    const event = await eventOf(res);
    expect(event.body).toBe('{"signed":true}');
    expect(event.queryStringParameters).toEqual({ q: '1,2', name: 'x+y' });
    expect(event.requestContext.accountId).toBe('000000000000');
    expect(event.requestContext.authorizer?.iam).toMatchObject({ accessKey: ACCESS_KEY, accountId: '000000000000' });
  });

  it('refuses a wrong secret, an unknown key and a body changed after signing', async () => {
    expect((await signedFetch(iamUrl, { secret: 'not-the-secret' })).status).toBe(403);
    const unknown = await signedFetch(iamUrl, { accessKeyId: 'AKIDUNKNOWN' });
    expect(unknown.status).toBe(403);
    expect(unknown.headers.get('x-laminar-auth-error')).toMatch(/AKIDUNKNOWN/);
    // A body changed after signing: with X-Amz-Content-Sha256 signed (the signer would trust that
    // header, so Laminar hashes the body itself), and without it.
    for (const applyChecksum of [true, false]) {
      const changed = await signedFetch(iamUrl, { method: 'POST', body: '{"amount":1}', send: '{"amount":1000}', applyChecksum });
      expect(changed.status, `applyChecksum ${applyChecksum}`).toBe(403);
      const intact = await signedFetch(iamUrl, { method: 'POST', body: '{"amount":1}', applyChecksum });
      expect(intact.status, `applyChecksum ${applyChecksum}`).toBe(200);
    }
  });

  it('accepts a request signed by curl --aws-sigv4', async () => {
    const { stdout } = await run('curl', ['-s', '--aws-sigv4', 'aws:amz:us-east-1:lambda', '--user', `${ACCESS_KEY}:${SECRET}`, '-d', 'from curl', '-H', 'content-type: text/plain', `${iamUrl}curl?via=curl`]);
    const event = (JSON.parse(stdout) as { event: HttpEvent }).event;
    expect(event.body).toBe('from curl');
    expect(event.requestContext.authorizer?.iam.accessKey).toBe(ACCESS_KEY);
  });
});

describe('URL configs and their lifetime', () => {
  it('an alias’s URL goes with the alias, a function’s with the function', async () => {
    const name = await deployFixture(h.client, 'http');
    await h.client.send(new PublishVersionCommand({ FunctionName: name }));
    await h.client.send(new CreateAliasCommand({ FunctionName: name, Name: 'beta', FunctionVersion: '1' }));
    const aliasUrl = (await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, Qualifier: 'beta', AuthType: 'NONE' }))).FunctionUrl as string;
    const ownUrl = (await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE' }))).FunctionUrl as string;
    expect((await fetch(aliasUrl)).status).toBe(200);
    await h.client.send(new DeleteAliasCommand({ FunctionName: name, Name: 'beta' }));
    expect((await fetch(aliasUrl)).status).toBe(403);
    await expect(h.client.send(new GetFunctionUrlConfigCommand({ FunctionName: name, Qualifier: 'beta' }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect((await fetch(ownUrl)).status).toBe(200);
    await h.client.send(new DeleteFunctionCommand({ FunctionName: name }));
    expect((await fetch(ownUrl)).status).toBe(403);
  });

  it('an update changes how the same URL answers', async () => {
    const name = await deployFixture(h.client, 'http');
    const u = (await h.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE' }))).FunctionUrl as string;
    expect((await fetch(u)).status).toBe(200);
    const updated = await h.client.send(new UpdateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'AWS_IAM' }));
    expect(updated.FunctionUrl).toBe(u);
    expect((await fetch(u)).status).toBe(403);
  });
});

describe('after a restart on the same data dir', () => {
  it('the URL is the same and still serves', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'laminar-url-restart-'));
    try {
      const first = await startLaminar({}, {}, dataDir);
      const port = Number(new URL(first.url).port);
      const name = await deployFixture(first.client, 'http');
      const created = (await first.client.send(new CreateFunctionUrlConfigCommand({ FunctionName: name, AuthType: 'NONE' }))).FunctionUrl as string;
      await first.close();
      const second = await startLaminar({ port }, {}, dataDir);
      try {
        const got = await second.client.send(new GetFunctionUrlConfigCommand({ FunctionName: name }));
        expect(got.FunctionUrl).toBe(created);
        expect((await fetch(`${created}string`)).status).toBe(200);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
