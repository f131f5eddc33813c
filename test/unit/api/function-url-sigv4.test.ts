import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { parseAmzDate, parseAuthorization, verifySigV4, type SignedRequest } from '../../../src/api/function-url/sigv4.js';

class Sha256 {
  private h: Hash | Hmac;
  constructor(private readonly key?: string | ArrayBuffer | ArrayBufferView) {
    this.h = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.key === undefined ? createHash('sha256') : createHmac('sha256', typeof this.key === 'string' ? this.key : Buffer.from(this.key as Uint8Array));
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

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const credentials = new Map([['AKID', 'secret']]);
const options = { credentials, region: 'us-east-1', nowMs: NOW };

interface Sent {
  path?: string;
  query?: Record<string, string | string[]>;
  rawQuery?: string;
  body?: string;
  headers?: Record<string, string>;
  at?: number;
  region?: string;
  secret?: string;
  applyChecksum?: boolean;
}

/** Signs as the SDK does and returns what the server would receive. */
async function signed(o: Sent = {}): Promise<SignedRequest> {
  const signer = new SignatureV4({
    service: 'lambda',
    region: o.region ?? 'us-east-1',
    credentials: { accessKeyId: 'AKID', secretAccessKey: o.secret ?? 'secret' },
    sha256: Sha256,
    applyChecksum: o.applyChecksum ?? true,
  });
  const path = o.path ?? '/lambda-url/id/a%20b';
  const r = await signer.sign(
    { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: 9000, path, query: o.query ?? { x: ['1', '2'], y: 'a b' }, headers: { host: '127.0.0.1:9000', ...(o.headers ?? {}) }, ...(o.body !== undefined ? { body: o.body } : {}) },
    { signingDate: new Date(o.at ?? NOW) },
  );
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = String(v);
  return { method: 'POST', rawPath: path, rawQueryString: o.rawQuery ?? 'x=1&x=2&y=a%20b', headers, body: o.body !== undefined ? Buffer.from(o.body) : undefined };
}

describe('SigV4 verification of function URL requests', () => {
  it('parses the Authorization header and X-Amz-Date', () => {
    expect(parseAuthorization('AWS4-HMAC-SHA256 Credential=AK/20260601/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc')).toEqual({
      accessKeyId: 'AK',
      date: '20260601',
      region: 'us-east-1',
      service: 'lambda',
      terminator: 'aws4_request',
      signedHeaders: ['host', 'x-amz-date'],
      signature: 'abc',
    });
    expect(parseAuthorization('Basic dXNlcjpwYXNz')).toBeUndefined();
    expect(parseAmzDate('20260601T120000Z')).toBe(NOW);
    expect(parseAmzDate('2026-06-01')).toBeUndefined();
  });

  it('accepts what the SDK signed, with or without X-Amz-Content-Sha256', async () => {
    expect(await verifySigV4(await signed({ body: '{"a":1}' }), options)).toEqual({ ok: true, accessKeyId: 'AKID' });
    expect(await verifySigV4(await signed({ body: '{"a":1}', applyChecksum: false }), options)).toEqual({ ok: true, accessKeyId: 'AKID' });
    expect(await verifySigV4(await signed({ query: {}, rawQuery: '' }), options)).toEqual({ ok: true, accessKeyId: 'AKID' });
  });

  it('refuses a request changed after signing: body, path, query, a signed header', async () => {
    const body = await signed({ body: '{"a":1}' });
    expect(await verifySigV4({ ...body, body: Buffer.from('{"a":2}') }, options)).toMatchObject({ ok: false, reason: expect.stringMatching(/X-Amz-Content-Sha256/) });
    const noChecksum = await signed({ body: '{"a":1}', applyChecksum: false });
    expect(await verifySigV4({ ...noChecksum, body: Buffer.from('{"a":2}') }, options)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
    const req = await signed({ headers: { 'x-tenant': 'a' } });
    expect(await verifySigV4({ ...req, rawPath: '/lambda-url/id/other' }, options)).toMatchObject({ ok: false });
    expect(await verifySigV4({ ...req, rawQueryString: 'x=1&y=a%20b' }, options)).toMatchObject({ ok: false });
    expect(await verifySigV4({ ...req, headers: { ...req.headers, 'x-tenant': 'b' } }, options)).toMatchObject({ ok: false });
    expect(await verifySigV4({ ...req, method: 'PUT' }, options)).toMatchObject({ ok: false });
  });

  it('refuses another key, secret, region or service, and an old signature', async () => {
    expect(await verifySigV4(await signed({ secret: 'wrong' }), options)).toMatchObject({ ok: false, reason: expect.stringMatching(/does not match/) });
    expect(await verifySigV4(await signed(), { ...options, credentials: new Map([['OTHER', 'secret']]) })).toMatchObject({ ok: false, reason: expect.stringMatching(/AKID is not one of/) });
    expect(await verifySigV4(await signed({ region: 'eu-west-1' }), options)).toMatchObject({ ok: false, reason: expect.stringMatching(/region eu-west-1/) });
    expect(await verifySigV4(await signed({ at: NOW - 16 * 60 * 1000 }), options)).toMatchObject({ ok: false, reason: expect.stringMatching(/expired/) });
    expect(await verifySigV4(await signed({ at: NOW - 14 * 60 * 1000 }), options)).toMatchObject({ ok: true });
    const req = await signed();
    const s3 = req.headers.authorization?.toString().replace('/lambda/', '/s3/') ?? '';
    expect(await verifySigV4({ ...req, headers: { ...req.headers, authorization: s3 } }, options)).toMatchObject({ ok: false, reason: expect.stringMatching(/scope/) });
    const { authorization: _a, ...unsigned } = req.headers;
    expect(await verifySigV4({ ...req, headers: unsigned }, options)).toMatchObject({ ok: false, reason: expect.stringMatching(/not signed/) });
  });
});
