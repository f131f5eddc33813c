import { InvokeCommand, PublishVersionCommand, CreateAliasCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';

let h: Harness;
let echo: string;

beforeAll(async () => {
  h = await startLaminar();
  echo = await deployFixture(h.client, 'echo', { Environment: { Variables: { GREETING: 'hi' } } });
});
afterAll(async () => h.close());

async function raw(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(h.url + path, init);
}

describe('Invoke (RequestResponse)', () => {
  it('runs the handler and returns its result with Lambda headers', async () => {
    const out = await h.client.send(new InvokeCommand({ FunctionName: echo, Payload: Buffer.from('{"a":1}') }));
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(out.ExecutedVersion).toBe('$LATEST');
    const body = decode(out.Payload) as { event: unknown; requestId: string };
    expect(body.event).toEqual({ a: 1 });
    expect(body.requestId).toBe(out.$metadata.requestId);
  });

  it('reuses a warm environment: module state persists and no cold start is reported', async () => {
    const name = await deployFixture(h.client, 'echo');
    const first = await raw(`/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: '{}' });
    const second = await raw(`/2015-03-31/functions/${name}/invocations`, { method: 'POST', body: '{}' });
    expect(first.headers.get('x-laminar-cold-start')).toBe('true');
    expect(second.headers.get('x-laminar-cold-start')).toBe('false');
    const a = (await first.json()) as { invocations: number };
    const b = (await second.json()) as { invocations: number };
    expect([a.invocations, b.invocations]).toEqual([1, 2]);
  });

  it('treats an empty body as {} and passes the client context', async () => {
    const ctx = Buffer.from(JSON.stringify({ custom: { k: 'v' } })).toString('base64');
    const out = await h.client.send(new InvokeCommand({ FunctionName: echo, ClientContext: ctx }));
    const body = decode(out.Payload) as { event: unknown; clientContext: unknown };
    expect(body.event).toEqual({});
    expect(body.clientContext).toEqual({ custom: { k: 'v' } });
  });

  it('returns the last 4 KB of the log with LogType Tail', async () => {
    const name = await deployFixture(h.client, 'echo');
    const out = await h.client.send(new InvokeCommand({ FunctionName: name, LogType: 'Tail' }));
    const log = Buffer.from(out.LogResult ?? '', 'base64').toString('utf8');
    expect(log).toMatch(new RegExp(`START RequestId: ${out.$metadata.requestId} Version: \\$LATEST`));
    expect(log).toMatch(/END RequestId: /);
    expect(log).toMatch(/REPORT RequestId: .*\tDuration: \d+\.\d{2} ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: \d+\.\d{2} ms/);
  });

  it('sees its own environment variables and the reserved ones, never the host’s', async () => {
    // Set before the function's first environment exists, so a leak of the host's env would show.
    process.env.LAMINAR_TEST_SECRET = 'host-only';
    try {
      const fresh = await deployFixture(h.client, 'echo', { Environment: { Variables: { GREETING: 'hi' } } });
      const out = await h.client.send(new InvokeCommand({ FunctionName: fresh }));
      const body = decode(out.Payload) as { env: Record<string, string | undefined>; envKeys: string[]; initType: string };
      expect(body.env.GREETING).toBe('hi');
      expect(body.env.AWS_LAMBDA_FUNCTION_NAME).toBe(fresh);
      expect(body.initType).toBe('on-demand');
      expect(body.envKeys).not.toContain('LAMINAR_TEST_SECRET');
      expect(body.envKeys).not.toContain('HOME');
    } finally {
      delete process.env.LAMINAR_TEST_SECRET;
    }
  });
});

describe('Invocation types and qualifiers', () => {
  it('answers DryRun with 204 and Event with 202', async () => {
    const dry = await h.client.send(new InvokeCommand({ FunctionName: echo, InvocationType: 'DryRun' }));
    expect(dry.StatusCode).toBe(204);
    const ev = await h.client.send(new InvokeCommand({ FunctionName: echo, InvocationType: 'Event', Payload: Buffer.from('{}') }));
    expect(ev.StatusCode).toBe(202);
  });

  it('resolves versions and aliases given as Qualifier, name:qualifier or an ARN', async () => {
    const name = await deployFixture(h.client, 'echo');
    const v = await h.client.send(new PublishVersionCommand({ FunctionName: name }));
    expect(v.Version).toBe('1');
    await h.client.send(new CreateAliasCommand({ FunctionName: name, Name: 'live', FunctionVersion: '1' }));
    const byQualifier = await h.client.send(new InvokeCommand({ FunctionName: name, Qualifier: 'live' }));
    expect(byQualifier.ExecutedVersion).toBe('1');
    const byName = await h.client.send(new InvokeCommand({ FunctionName: `${name}:1` }));
    expect(byName.ExecutedVersion).toBe('1');
    const arn = `arn:aws:lambda:us-east-1:000000000000:function:${name}:live`;
    const byArn = await h.client.send(new InvokeCommand({ FunctionName: arn }));
    expect(byArn.ExecutedVersion).toBe('1');
    const body = decode(byArn.Payload) as { invokedFunctionArn: string };
    expect(body.invokedFunctionArn).toBe(arn);
  });
});

describe('Invoke errors', () => {
  it('refuses a body that is not JSON with 400 InvalidRequestContentException', async () => {
    const res = await raw(`/2015-03-31/functions/${echo}/invocations`, { method: 'POST', body: 'not json' });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    const body = (await res.json()) as { Type: string; message: string };
    expect(body.Type).toBe('User');
    expect(body.message).toMatch(/Could not parse request body into json/);
  });

  it('refuses payloads over 6 MB (sync) and 1 MB (async) with 413', async () => {
    const big = JSON.stringify({ s: 'x'.repeat(6 * 1024 * 1024) });
    const sync = await raw(`/2015-03-31/functions/${echo}/invocations`, { method: 'POST', body: big });
    expect(sync.status).toBe(413);
    expect(sync.headers.get('x-amzn-errortype')).toBe('RequestTooLargeException');
    const medium = JSON.stringify({ s: 'x'.repeat(1024 * 1024) });
    const asyncRes = await raw(`/2015-03-31/functions/${echo}/invocations`, {
      method: 'POST',
      body: medium,
      headers: { 'X-Amz-Invocation-Type': 'Event' },
    });
    expect(asyncRes.status).toBe(413);
    const ok = await raw(`/2015-03-31/functions/${echo}/invocations`, { method: 'POST', body: medium });
    expect(ok.status).toBe(200);
  });

  it('answers 404 ResourceNotFoundException for unknown functions, versions and aliases', async () => {
    for (const fn of ['no-such-function', `${echo}:99`, `${echo}:nope`]) {
      const res = await raw(`/2015-03-31/functions/${encodeURIComponent(fn)}/invocations`, { method: 'POST', body: '{}' });
      expect(res.status, fn).toBe(404);
      expect(res.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    }
  });

  it('validates the invocation type and log type headers', async () => {
    const res = await raw(`/2015-03-31/functions/${echo}/invocations`, {
      method: 'POST',
      body: '{}',
      headers: { 'X-Amz-Invocation-Type': 'Sometimes' },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toMatch(/invocationType/);
  });

  it('refuses a client context that is not base64 JSON', async () => {
    const res = await raw(`/2015-03-31/functions/${echo}/invocations`, {
      method: 'POST',
      body: '{}',
      headers: { 'X-Amz-Client-Context': Buffer.from('nope').toString('base64') },
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe('InvalidParameterValueException');
  });
});
