/**
 * The event a function URL request becomes: API Gateway's HTTP API payload, format 2.0. Pure: the
 * facts of the request go in (raw headers, raw path and query, body bytes, time), the event
 * comes out.
 */
import { isUtf8 } from 'node:buffer';

export interface UrlRequestFacts {
  method: string;
  /** The path after the URL id, still percent-encoded. */
  rawPath: string;
  rawQueryString: string;
  /** Node's `rawHeaders`: name, value, name, value… as received (repeated headers repeat). */
  rawHeaders: readonly string[];
  body: Buffer | undefined;
  sourceIp: string;
  /** `HTTP/1.1` */
  protocol: string;
  /** The port the request arrived on (x-forwarded-port). */
  port: number;
  urlId: string;
  requestId: string;
  accountId: string;
  nowMs: number;
  /** The signer of an AWS_IAM URL's request. */
  iam?: { accessKeyId: string };
}

/** Bodies of these content types reach the function as text; any other body, as base64. */
const TEXT_CONTENT_TYPE = /text|json|xml/i;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => String(n).padStart(2, '0');

/** `requestContext.time`: `12/Mar/2020:19:03:58 +0000`. */
export function requestTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** Header names lower-cased, repeated headers' values joined with commas, cookies apart. */
export function eventHeaders(rawHeaders: readonly string[]): { headers: Record<string, string>; cookies: string[] } {
  const values = new Map<string, string[]>();
  const cookies: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    if (name === 'cookie') {
      for (const c of value.split(';')) if (c.trim() !== '') cookies.push(c.trim());
      continue;
    }
    const list = values.get(name);
    if (list) list.push(value);
    else values.set(name, [value]);
  }
  const headers: Record<string, string> = {};
  for (const [name, list] of values) headers[name] = list.join(',');
  return { headers, cookies };
}

/** `?a=1&a=2&b=3` → `{a: '1,2', b: '3'}`, decoded as a browser's URLSearchParams decodes them. */
export function queryParameters(rawQueryString: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    out[key] = Object.hasOwn(out, key) ? `${out[key]},${value}` : value;
  }
  return out;
}

/** The body as the function sees it: text when it is text, base64 otherwise; absent when empty. */
export function eventBody(body: Buffer | undefined, contentType: string | undefined): { body?: string; isBase64Encoded: boolean } {
  if (!body || body.length === 0) return { isBase64Encoded: false };
  if (contentType !== undefined && TEXT_CONTENT_TYPE.test(contentType) && isUtf8(body)) return { body: body.toString('utf8'), isBase64Encoded: false };
  return { body: body.toString('base64'), isBase64Encoded: true };
}

export function httpEvent(f: UrlRequestFacts): Record<string, unknown> {
  const { headers, cookies } = eventHeaders(f.rawHeaders);
  // What Lambda's front end adds: the client as seen by it, and how the request reached it.
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${f.sourceIp}` : f.sourceIp;
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-port'] = String(f.port);
  const { body, isBase64Encoded } = eventBody(f.body, headers['content-type']);
  const requestContext: Record<string, unknown> = {
    accountId: f.iam ? f.accountId : 'anonymous',
    apiId: f.urlId,
    authentication: null,
    ...(f.iam
      ? {
          authorizer: {
            iam: {
              accessKey: f.iam.accessKeyId,
              accountId: f.accountId,
              callerId: f.iam.accessKeyId,
              cognitoIdentity: null,
              principalOrgId: null,
              userArn: `arn:aws:iam::${f.accountId}:user/${f.iam.accessKeyId}`,
              userId: f.iam.accessKeyId,
            },
          },
        }
      : {}),
    domainName: headers.host ?? '',
    domainPrefix: f.urlId,
    http: {
      method: f.method,
      path: f.rawPath,
      protocol: f.protocol,
      sourceIp: f.sourceIp,
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: f.requestId,
    routeKey: '$default',
    stage: '$default',
    time: requestTime(f.nowMs),
    timeEpoch: f.nowMs,
  };
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: f.rawPath,
    rawQueryString: f.rawQueryString,
    ...(cookies.length > 0 ? { cookies } : {}),
    headers,
    ...(f.rawQueryString !== '' ? { queryStringParameters: queryParameters(f.rawQueryString) } : {}),
    requestContext,
    ...(body !== undefined ? { body } : {}),
    pathParameters: null,
    isBase64Encoded,
    stageVariables: null,
  };
}
