/**
 * SigV4 verification of requests to `AWS_IAM` function URLs. No maintained verifier exists, so a
 * request is signed again with the AWS SDK's own signer (`@smithy/signature-v4`), from only the
 * headers the client signed and the secret of the access key it names, and the two signatures
 * are compared. The body is hashed here: the signer would trust a client's
 * `x-amz-content-sha256`, so a tampered body would otherwise still verify.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

export interface SignedRequest {
  method: string;
  /** The path as received, still percent-encoded (the signer encodes it once more, as clients do). */
  rawPath: string;
  rawQueryString: string;
  /** Node's lower-cased headers. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer | undefined;
}

export interface VerifyOptions {
  /** Secret access key by access key id. */
  credentials: ReadonlyMap<string, string>;
  region: string;
  nowMs: number;
  /** How far the request's X-Amz-Date may be from now (AWS allows 15 minutes). */
  maxSkewMs?: number;
}

export type Verdict = { ok: true; accessKeyId: string } | { ok: false; reason: string };

const SERVICE = 'lambda';
const ALGORITHM = 'AWS4-HMAC-SHA256';
const FIFTEEN_MINUTES = 15 * 60 * 1000;

/** node:crypto in the shape the signer asks for: a hash, or an HMAC when given a secret. */
class NodeSha256 {
  private hash;
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh();
  }
  private fresh() {
    if (this.secret === undefined) return createHash('sha256');
    const key = typeof this.secret === 'string' ? this.secret : ArrayBuffer.isView(this.secret) ? Buffer.from(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength) : Buffer.from(this.secret);
    return createHmac('sha256', key);
  }
  update(data: Uint8Array): void {
    this.hash.update(data);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

interface Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

/** `AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=…` */
export function parseAuthorization(value: string): Authorization | undefined {
  if (!value.startsWith(`${ALGORITHM} `)) return undefined;
  const parts = new Map<string, string>();
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) parts.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = parts.get('Credential')?.split('/');
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (!credential || credential.length !== 5 || !signedHeaders || !signature) return undefined;
  const [accessKeyId, date, region, service, terminator] = credential as [string, string, string, string, string];
  return { accessKeyId, date, region, service, terminator, signedHeaders: signedHeaders.split(';'), signature };
}

/** `20260101T120000Z` → epoch ms; undefined when malformed. */
export function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as [number, number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The query as the signer takes it: decoded keys and values, repeated keys as lists. */
function signerQuery(raw: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (raw === '') return out;
  for (const pair of raw.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const decode = (s: string) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    };
    const key = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1));
    const prev = out[key];
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  return out;
}

const header = (h: SignedRequest['headers'], name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
};

/** Checks a request's SigV4 signature (service `lambda`) against the configured credentials. */
export async function verifySigV4(req: SignedRequest, o: VerifyOptions): Promise<Verdict> {
  const raw = header(req.headers, 'authorization');
  if (raw === undefined) return { ok: false, reason: 'the request is not signed: an AWS_IAM function URL takes SigV4-signed requests (service lambda)' };
  const auth = parseAuthorization(raw);
  if (!auth) return { ok: false, reason: `the Authorization header is not an ${ALGORITHM} signature` };
  if (auth.service !== SERVICE || auth.terminator !== 'aws4_request') return { ok: false, reason: `the signature's scope is not ${SERVICE}/aws4_request` };
  if (auth.region !== o.region) return { ok: false, reason: `the signature is for region ${auth.region}, not ${o.region}` };
  const amzDate = header(req.headers, 'x-amz-date');
  const signedAt = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (amzDate === undefined || signedAt === undefined || !auth.signedHeaders.includes('x-amz-date')) {
    return { ok: false, reason: 'the request has no signed X-Amz-Date header' };
  }
  if (!amzDate.startsWith(auth.date)) return { ok: false, reason: "the credential scope's date is not the date of X-Amz-Date" };
  if (Math.abs(o.nowMs - signedAt) > (o.maxSkewMs ?? FIFTEEN_MINUTES)) return { ok: false, reason: 'the signature has expired (X-Amz-Date is more than 15 minutes from now)' };
  if (!auth.signedHeaders.includes('host')) return { ok: false, reason: 'the Host header is not signed' };
  const secretAccessKey = o.credentials.get(auth.accessKeyId);
  if (secretAccessKey === undefined) return { ok: false, reason: `the access key ${auth.accessKeyId} is not one of functionUrlCredentials` };

  const bodyHash = createHash('sha256').update(req.body ?? Buffer.alloc(0)).digest('hex');
  const claimed = header(req.headers, 'x-amz-content-sha256');
  if (claimed !== undefined && claimed !== bodyHash) return { ok: false, reason: 'X-Amz-Content-Sha256 is not the SHA-256 of the body' };

  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = header(req.headers, name);
    if (value === undefined) return { ok: false, reason: `the signed header ${name} is missing` };
    headers[name] = value;
  }
  const host = headers.host as string;
  const signer = new SignatureV4({
    service: SERVICE,
    region: o.region,
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey },
    sha256: NodeSha256,
    // The client's own X-Amz-Content-Sha256 (checked above) is signed when it sent one; none is added.
    applyChecksum: false,
  });
  const resigned = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: host.replace(/:\d+$/, ''),
      path: req.rawPath,
      query: signerQuery(req.rawQueryString),
      headers,
      body: req.body ?? Buffer.alloc(0),
    },
    { signingDate: new Date(signedAt), signableHeaders: new Set(auth.signedHeaders) },
  );
  const expected = parseAuthorization(String(resigned.headers.authorization));
  if (!expected || expected.signedHeaders.join(';') !== [...auth.signedHeaders].sort().join(';')) {
    return { ok: false, reason: 'SignedHeaders is not the sorted list of the signed headers' };
  }
  const a = Buffer.from(expected.signature, 'utf8');
  const b = Buffer.from(auth.signature, 'utf8');
  if (a.length !== b.length || !timingSafeEqual(a, b)) return { ok: false, reason: 'the signature does not match the request' };
  return { ok: true, accessKeyId: auth.accessKeyId };
}
