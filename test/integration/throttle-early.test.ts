/**
 * Throttles before the body: a synchronous invoke that admission would refuse is answered from
 * its headers alone, with Lambda's 429, before a byte of its event arrives.
 */
import { InvokeCommand, PutFunctionConcurrencyCommand, TooManyRequestsException } from '@aws-sdk/client-lambda';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';
import { sample, scrape } from '../helpers/metrics.js';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A keep-alive connection that reads one whole response (Content-Length framed) per request. */
class RawConnection {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiter?.();
    });
  }

  static open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const s = connect(Number(port), hostname, () => resolve(new RawConnection(s)));
      s.once('error', reject);
    });
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** The next complete response on the connection. */
  async response(): Promise<RawResponse> {
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const [statusLine, ...lines] = this.buf.subarray(0, end).toString('latin1').split('\r\n');
        const headers: Record<string, string> = {};
        for (const l of lines) {
          const i = l.indexOf(':');
          headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (this.buf.length >= end + 4 + length) {
          const body = this.buf.subarray(end + 4, end + 4 + length).toString('utf8');
          this.buf = this.buf.subarray(end + 4 + length);
          return { status: Number(statusLine!.split(' ')[1]), headers, body };
        }
      }
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function invokeHead(fn: string, contentLength: number, extra = ''): string {
  return `POST /2015-03-31/functions/${fn}/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${contentLength}\r\n${extra}\r\n`;
}

const RESERVED_BODY = { Type: 'User', message: 'Rate Exceeded.', Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded' };

describe('throttles before the body', () => {
  let h: Harness;
  let clock: ManualClock;
  let blocked: string;
  let open: string;
  beforeAll(async () => {
    clock = new ManualClock();
    h = await startLaminar({ scalingRateEnvironments: 1, scalingRateWindowSeconds: 10 }, { clock });
    blocked = await deployFixture(h.client, 'echo');
    await h.client.send(new PutFunctionConcurrencyCommand({ FunctionName: blocked, ReservedConcurrentExecutions: 0 }));
    open = await deployFixture(h.client, 'echo');
  });
  afterAll(async () => h.close());

  it('a throttled invoke gets Lambda’s 429 while its event has not been sent', async () => {
    const before = sample(await scrape(h.url), 'laminar_throttles_total', { function: blocked, reason: RESERVED_BODY.Reason }) ?? 0;
    const c = await RawConnection.open(h.url);
    try {
      // The request promises 64 bytes of event and sends none: only an answer from the headers can come back.
      c.write(invokeHead(blocked, 64));
      const res = await c.response();
      expect(res.status).toBe(429);
      expect(res.headers['x-amzn-errortype']).toBe('TooManyRequestsException');
      expect(res.headers['content-type']).toMatch(/^application\/json\b/);
      expect(res.headers['retry-after']).toBe('1');
      expect(res.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
      expect(JSON.parse(res.body)).toEqual(RESERVED_BODY);
    } finally {
      c.close();
    }
    expect(sample(await scrape(h.url), 'laminar_throttles_total', { function: blocked, reason: RESERVED_BODY.Reason })).toBe(before + 1);
  });

  it('an admitted invoke waits for its event and runs it', async () => {
    const c = await RawConnection.open(h.url);
    try {
      const event = JSON.stringify({ sent: 'after the headers' });
      c.write(invokeHead(open, Buffer.byteLength(event)));
      c.write(event);
      const res = await c.response();
      expect(res.status).toBe(200);
      expect((JSON.parse(res.body) as { event: unknown }).event).toEqual({ sent: 'after the headers' });
    } finally {
      c.close();
    }
  });

  it('the connection stays usable after a 429 that left its event unread', async () => {
    const c = await RawConnection.open(h.url);
    try {
      const event = JSON.stringify({ n: 1 });
      c.write(invokeHead(blocked, Buffer.byteLength(event)) + event);
      expect((await c.response()).status).toBe(429);
      const next = JSON.stringify({ n: 2 });
      c.write(invokeHead(open, Buffer.byteLength(next)) + next);
      const res = await c.response();
      expect(res.status).toBe(200);
      expect((JSON.parse(res.body) as { event: unknown }).event).toEqual({ n: 2 });
    } finally {
      c.close();
    }
  });

  it('the SDK reads the early 429 as TooManyRequestsException with its Reason', async () => {
    const err = await h.client.send(new InvokeCommand({ FunctionName: blocked, Payload: Buffer.from('{}') })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooManyRequestsException);
    expect((err as TooManyRequestsException).Reason).toBe(RESERVED_BODY.Reason);
    expect((err as TooManyRequestsException).$metadata.httpStatusCode).toBe(429);
  });

  it('an Event invoke is never throttled at the door: it is queued', async () => {
    const res = await h.client.send(new InvokeCommand({ FunctionName: blocked, InvocationType: 'Event', Payload: Buffer.from('{}') }));
    expect(res.StatusCode).toBe(202);
  });

  it('a scaling-rate throttle is decided from the headers too, with the Retry-After of the bucket', async () => {
    const fn = await deployFixture(h.client, 'sleep');
    // The one token of the window goes to this invocation, whose environment stays busy.
    const busy = fetch(`${h.url}/2015-03-31/functions/${fn}/invocations`, { method: 'POST', body: JSON.stringify({ ms: 2_000 }) });
    let res: RawResponse | undefined;
    for (let i = 0; i < 500 && res?.status !== 429; i++) {
      const c = await RawConnection.open(h.url);
      c.write(invokeHead(fn, 64));
      res = await Promise.race([c.response(), new Promise<undefined>((r) => setTimeout(() => r(undefined), 20))]);
      c.close();
    }
    expect(res?.status).toBe(429);
    expect(JSON.parse(res!.body)).toEqual({ Type: 'User', message: 'Rate Exceeded.', Reason: 'FunctionInvocationRateLimitExceeded' });
    expect(res!.headers['retry-after']).toBe('10');
    expect((await busy).status).toBe(200);
  });
});
