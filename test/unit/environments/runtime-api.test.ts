/**
 * The Runtime API server of a process environment, over real HTTP on loopback: an in-test
 * runtime client for the protocol's rules, real child processes (a node runtime, a curl
 * bootstrap, an intruder) for what crosses process boundaries.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import http from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { findPeerPid, peerPidAuthorizer, processTree } from '../../../src/environments/process/peer-authorizer.js';
import {
  RuntimeApiServer,
  type RuntimeApiOptions,
  type RuntimeInvocation,
  type RuntimeReply,
} from '../../../src/environments/process/runtime-api.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/runtime-api/', import.meta.url));
const BASE = '/2018-06-01/runtime';

// --- harness -------------------------------------------------------------------------------

interface Harness {
  api: RuntimeApiServer;
  firstNext: number;
  initErrors: { errorType: string; body: Buffer }[];
  /** Resolves the next time a /next parks. */
  waiting(): Promise<void>;
  /** Resolves on the first /next. */
  initDone: Promise<void>;
  url(path: string): string;
}

const servers: RuntimeApiServer[] = [];
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function startHarness(options: RuntimeApiOptions = {}): Promise<Harness> {
  let waiters: (() => void)[] = [];
  let markInit: () => void = () => {};
  const initDone = new Promise<void>((resolve) => (markInit = resolve));
  const h = {
    firstNext: 0,
    initErrors: [] as { errorType: string; body: Buffer }[],
    waiting: () => new Promise<void>((resolve) => waiters.push(resolve)),
    initDone,
  } as Harness;
  h.api = await RuntimeApiServer.start(
    {
      onFirstNext: () => {
        h.firstNext++;
        markInit();
      },
      onInitError: (errorType, body) => h.initErrors.push({ errorType, body }),
      onRuntimeWaiting: () => {
        const w = waiters;
        waiters = [];
        for (const resolve of w) resolve();
      },
    },
    options,
  );
  h.url = (path) => `http://${h.api.address}${path}`;
  servers.push(h.api);
  return h;
}

function invocation(payload: string | Buffer = '{"hello":"world"}', extra: Partial<RuntimeInvocation> = {}): RuntimeInvocation {
  return {
    requestId: randomUUID(),
    payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    deadlineMs: Date.now() + 3000,
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:fn',
    ...extra,
  };
}

interface Reply {
  status: number;
  headers: Headers;
  body: Buffer;
}

async function call(h: Harness, method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}): Promise<Reply> {
  // A copy typed as a plain Uint8Array: fetch's BodyInit does not name Buffer.
  const init = typeof body === 'string' || body === undefined ? body : Uint8Array.from(body);
  const res = await fetch(h.url(path), { method, body: init, headers });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

const next = (h: Harness): Promise<Reply> => call(h, 'GET', `${BASE}/invocation/next`);
const respond = (h: Harness, id: string, body: Buffer | string): Promise<Reply> =>
  call(h, 'POST', `${BASE}/invocation/${id}/response`, body);
const fail = (h: Harness, id: string, body: string, errorType?: string): Promise<Reply> =>
  call(h, 'POST', `${BASE}/invocation/${id}/error`, body, errorType === undefined ? {} : { 'Lambda-Runtime-Function-Error-Type': errorType });

const json = (r: Reply): unknown => JSON.parse(r.body.toString());

/** Starts /next, waits until the server has parked it, then hands over `inv`. */
async function handOver(h: Harness, inv: RuntimeInvocation): Promise<{ event: Reply; result: Promise<RuntimeReply> }> {
  const parked = h.waiting();
  const polled = next(h);
  await parked;
  const result = h.api.invoke(inv);
  return { event: await polled, result };
}

// --- protocol ------------------------------------------------------------------------------

describe('RuntimeApiServer: the invocation cycle', () => {
  it('ends Init on the first /next, delivers the event with its headers and returns the response bytes', async () => {
    const h = await startHarness();
    expect(h.api.address).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(h.api.runtimeState).toBe('Started');

    const inv = invocation('{"n":1}', {
      traceId: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
      clientContext: '{"client":{"app_title":"t"},"custom":{"k":"v"}}',
      identity: '{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}',
      tenantId: 'tenant-1',
    });
    const { event, result } = await handOver(h, inv);
    expect(h.firstNext).toBe(1);
    expect(event.status).toBe(200);
    expect(event.headers.get('content-type')).toBe('application/json');
    expect(event.headers.get('lambda-runtime-aws-request-id')).toBe(inv.requestId);
    expect(event.headers.get('lambda-runtime-deadline-ms')).toBe(String(inv.deadlineMs));
    expect(event.headers.get('lambda-runtime-invoked-function-arn')).toBe(inv.invokedFunctionArn);
    expect(event.headers.get('lambda-runtime-trace-id')).toBe(inv.traceId);
    expect(event.headers.get('lambda-runtime-client-context')).toBe(inv.clientContext);
    expect(event.headers.get('lambda-runtime-cognito-identity')).toBe(inv.identity);
    expect(event.headers.get('lambda-runtime-aws-tenant-id')).toBe('tenant-1');
    expect(event.body.equals(inv.payload)).toBe(true);
    expect(h.api.runtimeState).toBe('Running');

    // Bytes, not text: a body that is not valid UTF-8 comes back unchanged.
    const bytes = Buffer.from([0xff, 0x00, 0xfe, 0x7b, 0x80]);
    const accepted = await respond(h, inv.requestId, bytes);
    expect(accepted.status).toBe(202);
    expect(accepted.body.toString()).toBe('{"status":"OK"}\n');
    const reply = await result;
    expect(reply.kind).toBe('response');
    expect(reply.kind === 'response' && reply.body.equals(bytes)).toBe(true);
    expect(h.api.runtimeState).toBe('RuntimeResponseSentState');

    // The second cycle: no new Init, and empty optional headers are left out.
    const second = invocation('[]');
    const cycle = await handOver(h, second);
    expect(h.firstNext).toBe(1);
    for (const name of [
      'lambda-runtime-trace-id',
      'lambda-runtime-client-context',
      'lambda-runtime-cognito-identity',
      'lambda-runtime-aws-tenant-id',
    ]) {
      expect(cycle.event.headers.has(name)).toBe(false);
    }
    expect((await respond(h, second.requestId, 'null')).status).toBe(202);
    expect(await cycle.result).toEqual({ kind: 'response', body: Buffer.from('null') });
  });

  it('long-polls: /next waits until invoke() hands an invocation over', async () => {
    const h = await startHarness();
    let answered = false;
    const parked = h.waiting();
    const polled = next(h).then((r) => {
      answered = true;
      return r;
    });
    await parked;
    expect(h.api.runtimeWaiting).toBe(true);
    // The server keeps serving other requests meanwhile; the poll is still open.
    expect((await call(h, 'GET', '/2018-06-01/ping')).body.toString()).toBe('pong');
    expect(answered).toBe(false);

    const inv = invocation();
    const result = h.api.invoke(inv);
    const event = await polled;
    expect(event.headers.get('lambda-runtime-aws-request-id')).toBe(inv.requestId);
    expect(h.api.runtimeWaiting).toBe(false);
    await respond(h, inv.requestId, 'ok');
    expect(await result).toEqual({ kind: 'response', body: Buffer.from('ok') });
  });

  it('queues an invocation given before the runtime asks, and delivers it on /next', async () => {
    const h = await startHarness();
    const inv = invocation();
    const result = h.api.invoke(inv);
    const event = await next(h);
    expect(h.firstNext).toBe(1);
    expect(event.headers.get('lambda-runtime-aws-request-id')).toBe(inv.requestId);
    await respond(h, inv.requestId, '1');
    expect((await result).kind).toBe('response');
  });

  it('takes one invocation at a time', async () => {
    const h = await startHarness();
    void h.api.invoke(invocation());
    await expect(h.api.invoke(invocation())).rejects.toThrow(/still in progress/);
  });

  it('reports a function error with the error type scrubbed as the RIE does', async () => {
    const h = await startHarness();
    const cases: [string | undefined, string][] = [
      ['Runtime.HandlerNotFound', 'Runtime.HandlerNotFound'],
      ['Function.oops', 'Function.Unknown'],
      ['TypeError', 'Runtime.Unknown'],
      [undefined, 'Runtime.Unknown'],
    ];
    for (const [header, expected] of cases) {
      const inv = invocation();
      const { result } = await handOver(h, inv);
      const body = '{"errorMessage":"boom","errorType":"TypeError","stackTrace":[]}';
      const accepted = await fail(h, inv.requestId, body, header);
      expect(accepted.status).toBe(202);
      expect(await result).toEqual({ kind: 'error', errorType: expected, body: Buffer.from(body) });
    }
  });

  it('sends a client context beyond Latin-1 as UTF-8 bytes and never splits headers', async () => {
    const h = await startHarness();
    const clientContext = '{\n  "custom": {"city": "東京"}\r\n}';
    const inv = invocation('{}', { clientContext });
    void h.api.invoke(inv);
    const raw = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get(h.url(`${BASE}/invocation/next`), resolve).on('error', reject),
    );
    raw.resume();
    const received = Buffer.from(String(raw.headers['lambda-runtime-client-context']), 'latin1').toString('utf8');
    expect(JSON.parse(received)).toEqual(JSON.parse(clientContext));
    expect(raw.headers['lambda-runtime-aws-request-id']).toBe(inv.requestId);
  });

  it('re-sends the held event when the runtime asks again before answering, as the RIE does', async () => {
    const h = await startHarness();
    const inv = invocation('{"again":true}');
    const { event } = await handOver(h, inv);
    const again = await next(h);
    expect(again.status).toBe(200);
    expect(again.headers.get('lambda-runtime-aws-request-id')).toBe(inv.requestId);
    expect(again.body.equals(event.body)).toBe(true);
  });

  it('keeps one waiting /next: a second concurrent one is refused and the first gets the event', async () => {
    const h = await startHarness();
    const parked = h.waiting();
    const first = next(h);
    await parked;
    const second = await next(h);
    expect(second.status).toBe(403);
    expect(json(second)).toEqual({
      errorMessage: 'State transition from Ready to Ready failed for runtime. Error: Concurrent state modification',
      errorType: 'InvalidStateTransition',
    });
    const inv = invocation();
    void h.api.invoke(inv);
    expect((await first).headers.get('lambda-runtime-aws-request-id')).toBe(inv.requestId);
  });

  it('forgets a waiting /next whose connection closed, and delivers to the next one', async () => {
    const h = await startHarness();
    const parked = h.waiting();
    const controller = new AbortController();
    const lost = fetch(h.url(`${BASE}/invocation/next`), { signal: controller.signal }).catch(() => 'aborted');
    await parked;
    controller.abort();
    expect(await lost).toBe('aborted');
    // A fresh poll is not refused as concurrent once the server has seen the close.
    const reparked = h.waiting();
    const polled = next(h);
    await reparked;
    const inv = invocation();
    void h.api.invoke(inv);
    expect((await polled).headers.get('lambda-runtime-aws-request-id')).toBe(inv.requestId);
  });
});

describe('RuntimeApiServer: replies out of turn', () => {
  it('answers a reply naming another request id with 400 InvalidRequestID and keeps the invocation', async () => {
    const h = await startHarness();
    const inv = invocation();
    const { result } = await handOver(h, inv);
    for (const wrong of [randomUUID(), 'not-an-id']) {
      const r = await respond(h, wrong, 'x');
      expect(r.status).toBe(400);
      expect(json(r)).toEqual({ errorMessage: 'Invalid request ID', errorType: 'InvalidRequestID' });
      expect((await fail(h, wrong, '{}', 'Runtime.X')).status).toBe(400);
    }
    expect((await respond(h, inv.requestId, 'right')).status).toBe(202);
    expect(await result).toEqual({ kind: 'response', body: Buffer.from('right') });
  });

  it('answers a second reply for the same id with 403 InvalidStateTransition and changes nothing', async () => {
    const h = await startHarness();
    const inv = invocation();
    const { result } = await handOver(h, inv);
    expect((await respond(h, inv.requestId, 'first')).status).toBe(202);
    const again = await respond(h, inv.requestId, 'second');
    expect(again.status).toBe(403);
    expect(json(again)).toEqual({
      errorMessage: 'State transition from RuntimeResponseSentState to InvocationResponse failed for runtime. Error: State transition is not allowed',
      errorType: 'InvalidStateTransition',
    });
    const asError = await fail(h, inv.requestId, '{}', 'Runtime.X');
    expect(asError.status).toBe(403);
    expect((json(asError) as { errorMessage: string }).errorMessage).toContain('to InvocationErrorResponse');
    expect(await result).toEqual({ kind: 'response', body: Buffer.from('first') });
  });

  it('answers a reply while no invocation is held with 403', async () => {
    const h = await startHarness();
    // During Init.
    const early = await respond(h, randomUUID(), 'x');
    expect(early.status).toBe(403);
    expect((json(early) as { errorMessage: string }).errorMessage).toMatch(/^State transition from Started to InvocationResponse/);
    // While the runtime waits for work.
    const parked = h.waiting();
    const polled = next(h);
    await parked;
    const idle = await fail(h, randomUUID(), '{}', 'Runtime.X');
    expect(idle.status).toBe(403);
    expect((json(idle) as { errorMessage: string }).errorMessage).toMatch(/^State transition from Ready to InvocationErrorResponse/);
    const inv = invocation();
    void h.api.invoke(inv);
    expect((await polled).status).toBe(200);
  });

  it('after abandon(), resolves the invocation as abandoned and refuses the late reply', async () => {
    const h = await startHarness();
    const inv = invocation();
    const { result } = await handOver(h, inv);
    h.api.abandon(inv.requestId);
    expect(await result).toEqual({ kind: 'abandoned' });
    const late = await respond(h, inv.requestId, 'late');
    expect(late.status).toBe(403);
    expect((await fail(h, inv.requestId, '{}')).status).toBe(403);
    h.api.abandon(inv.requestId); // already over: ignored

    // The environment can still be used (the scheduler would normally destroy it).
    const after = invocation();
    const cycle = await handOver(h, after);
    expect(cycle.event.headers.get('lambda-runtime-aws-request-id')).toBe(after.requestId);
    expect((await respond(h, inv.requestId, 'stale')).status).toBe(400);
    expect((await respond(h, after.requestId, 'fresh')).status).toBe(202);
    expect(await cycle.result).toEqual({ kind: 'response', body: Buffer.from('fresh') });
  });

  it('withdraws an abandoned invocation the runtime has not fetched yet', async () => {
    const h = await startHarness();
    const inv = invocation();
    const result = h.api.invoke(inv);
    h.api.abandon(inv.requestId);
    expect(await result).toEqual({ kind: 'abandoned' });
    const parked = h.waiting();
    const polled = next(h);
    await parked; // no event for the withdrawn invocation
    const other = invocation();
    void h.api.invoke(other);
    expect((await polled).headers.get('lambda-runtime-aws-request-id')).toBe(other.requestId);
  });

  it('answers unknown paths with 404 and wrong methods with 405', async () => {
    const h = await startHarness();
    expect((await call(h, 'GET', '/2018-06-01/runtime/invocation')).status).toBe(404);
    expect((await call(h, 'GET', '/2020-01-01/extension/event/next')).status).toBe(404);
    expect((await call(h, 'GET', '/')).status).toBe(404);
    const wrong = await call(h, 'POST', `${BASE}/invocation/next`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET');
    expect((await call(h, 'GET', `${BASE}/invocation/abc/response`)).status).toBe(405);
    expect(h.api.runtimeState).toBe('Started');
  });
});

/** A POST whose body is sent in parts: the server sees the request before the body ends. */
function startUpload(h: Harness, path: string): { req: http.ClientRequest; reply: Promise<{ status: number; body: string }> } {
  const req = http.request(h.url(path), { method: 'POST', headers: { 'transfer-encoding': 'chunked' } });
  const reply = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
  });
  req.flushHeaders();
  return { req, reply };
}

/** Resolves once the server's runtime state is `state` (checked after each server round trip). */
async function stateBecomes(h: Harness, state: string): Promise<void> {
  while (h.api.runtimeState !== state) await call(h, 'GET', '/2018-06-01/ping');
}

describe('RuntimeApiServer: replies in flight', () => {
  it('refuses a second reply while the first is still arriving, then takes the first', async () => {
    const h = await startHarness();
    const inv = invocation();
    const { result } = await handOver(h, inv);
    const upload = startUpload(h, `${BASE}/invocation/${inv.requestId}/response`);
    upload.req.write('part one, ');
    await stateBecomes(h, 'InvocationResponse');
    const racing = await respond(h, inv.requestId, 'other');
    expect(racing.status).toBe(403);
    expect((json(racing) as { errorMessage: string }).errorMessage).toMatch(/^State transition from InvocationResponse to InvocationResponse/);
    upload.req.end('part two');
    expect((await upload.reply).status).toBe(202);
    expect(await result).toEqual({ kind: 'response', body: Buffer.from('part one, part two') });
  });

  it('answers an upload that outlives abandon() with 403 and leaves the invocation abandoned', async () => {
    const h = await startHarness();
    const inv = invocation();
    const { result } = await handOver(h, inv);
    const upload = startUpload(h, `${BASE}/invocation/${inv.requestId}/response`);
    upload.req.write('too ');
    await stateBecomes(h, 'InvocationResponse');
    h.api.abandon(inv.requestId);
    expect(await result).toEqual({ kind: 'abandoned' });
    upload.req.end('late');
    const r = await upload.reply;
    expect(r.status).toBe(403);
    expect(h.api.runtimeState).toBe('RuntimeResponseSentState');
  });

  it('lets the runtime answer again when its upload breaks off', async () => {
    const h = await startHarness();
    const inv = invocation();
    const { result } = await handOver(h, inv);
    const upload = startUpload(h, `${BASE}/invocation/${inv.requestId}/response`);
    upload.reply.catch(() => {});
    upload.req.write('half');
    await stateBecomes(h, 'InvocationResponse');
    upload.req.destroy();
    await stateBecomes(h, 'Running');
    expect((await respond(h, inv.requestId, 'whole')).status).toBe(202);
    expect(await result).toEqual({ kind: 'response', body: Buffer.from('whole') });
  });
});

describe('RuntimeApiServer: connection authorization', () => {
  it('asks once per connection, and refuses with 403 and a closed connection', async () => {
    const asked: number[] = [];
    let allow = true;
    const h = await startHarness({
      authorize: async (socket) => {
        asked.push(socket.remotePort ?? 0);
        return allow;
      },
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string): Promise<{ status: number; connection: string | undefined }> =>
      new Promise((resolve, reject) => {
        http
          .get(h.url(path), { agent }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
          })
          .on('error', reject);
      });
    for (let i = 0; i < 3; i++) expect((await get('/2018-06-01/ping')).status).toBe(200);
    expect(asked).toHaveLength(1); // keep-alive: one connection, one check

    allow = false;
    agent.destroy();
    const refused = await get(`${BASE}/invocation/next`);
    expect(refused).toEqual({ status: 403, connection: 'close' });
    expect(asked).toHaveLength(2);
    expect(h.firstNext).toBe(0);
    agent.destroy();
  });

  it('refuses when the authorizer throws', async () => {
    const h = await startHarness({
      authorize: () => {
        throw new Error('lookup failed');
      },
    });
    const r = await next(h);
    expect(r.status).toBe(403);
    expect(json(r)).toMatchObject({ errorType: 'AccessDenied' });
    expect(h.api.runtimeState).toBe('Started');
  });
});

describe('RuntimeApiServer: response size', () => {
  it('accepts exactly 6 MiB + 100 bytes; one byte more is 413 and a Function.ResponseSizeTooLarge error', async () => {
    const h = await startHarness();
    const limit = 6 * 1024 * 1024 + 100;

    const fits = invocation();
    const a = await handOver(h, fits);
    expect((await respond(h, fits.requestId, Buffer.alloc(limit, 0x61))).status).toBe(202);
    const ok = await a.result;
    expect(ok.kind === 'response' && ok.body.length).toBe(limit);

    const big = invocation();
    const b = await handOver(h, big);
    const tooLarge = await respond(h, big.requestId, Buffer.alloc(limit + 1, 0x61));
    expect(tooLarge.status).toBe(413);
    expect(json(tooLarge)).toEqual({
      errorMessage: `Exceeded maximum allowed payload size (${limit} bytes).`,
      errorType: 'RequestEntityTooLarge',
    });
    const failed = await b.result;
    expect(failed.kind).toBe('error');
    if (failed.kind !== 'error') return;
    expect(failed.errorType).toBe('Function.ResponseSizeTooLarge');
    expect(JSON.parse(failed.body.toString())).toEqual({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: `Response payload size (${limit + 1} bytes) exceeded maximum allowed payload size (${limit} bytes).`,
    });
    // The invocation is over, and the runtime carries on.
    expect((await respond(h, big.requestId, 'retry')).status).toBe(403);
    const third = invocation();
    const c = await handOver(h, third);
    expect((await respond(h, third.requestId, 'small')).status).toBe(202);
    expect((await c.result).kind).toBe('response');
  });

  it('applies a configured limit to error bodies too', async () => {
    const h = await startHarness({ maxResponseBytes: 16 });
    const inv = invocation();
    const { result } = await handOver(h, inv);
    expect((await fail(h, inv.requestId, '{"errorMessage":"much too long"}', 'Runtime.X')).status).toBe(413);
    expect(((await result) as { errorType: string }).errorType).toBe('Function.ResponseSizeTooLarge');
  });
});

describe('RuntimeApiServer: Init errors', () => {
  it('reports /init/error during Init, then refuses /next and further init errors', async () => {
    const h = await startHarness();
    const body = '{"errorMessage":"Cannot find module","errorType":"Runtime.ImportModuleError"}';
    const accepted = await call(h, 'POST', `${BASE}/init/error`, body, {
      'Lambda-Runtime-Function-Error-Type': 'Runtime.ImportModuleError',
    });
    expect(accepted.status).toBe(202);
    expect(h.initErrors).toEqual([{ errorType: 'Runtime.ImportModuleError', body: Buffer.from(body) }]);
    expect(h.api.runtimeState).toBe('InitError');

    const polled = await next(h);
    expect(polled.status).toBe(403);
    expect(json(polled)).toEqual({
      errorMessage: 'State transition from InitError to Ready failed for runtime. Error: State transition is not allowed',
      errorType: 'InvalidStateTransition',
    });
    expect((await call(h, 'POST', `${BASE}/init/error`, '{}')).status).toBe(403);
    expect(h.firstNext).toBe(0);
    expect(h.initErrors).toHaveLength(1);
    await expect(h.api.invoke(invocation())).rejects.toThrow(/Init/);
  });

  it('refuses /init/error once Init is over', async () => {
    const h = await startHarness();
    const parked = h.waiting();
    void next(h).catch(() => {}); // ended by close() in afterEach
    await parked;
    const late = await call(h, 'POST', `${BASE}/init/error`, '{}', { 'Lambda-Runtime-Function-Error-Type': 'Runtime.X' });
    expect(late.status).toBe(403);
    expect((json(late) as { errorMessage: string }).errorMessage).toMatch(/^State transition from Ready to InitError/);
    expect(h.initErrors).toEqual([]);
  });

  it('fails an invocation that was waiting for Init with the Init error', async () => {
    const h = await startHarness();
    const result = h.api.invoke(invocation());
    await call(h, 'POST', `${BASE}/init/error`, '{"errorType":"x"}', { 'Lambda-Runtime-Function-Error-Type': 'Unhandled' });
    expect(await result).toEqual({ kind: 'error', errorType: 'Runtime.Unknown', body: Buffer.from('{"errorType":"x"}') });
  });
});

describe('RuntimeApiServer: close()', () => {
  it('ends a pending long poll and settles the invocation in progress', async () => {
    const h = await startHarness();
    const parked = h.waiting();
    const polled = next(h).then(
      () => 'answered',
      () => 'connection closed',
    );
    await parked;
    await h.api.close();
    expect(await polled).toBe('connection closed');
    await h.api.close(); // idempotent
    await expect(h.api.invoke(invocation())).rejects.toThrow(/closed/);
  });

  it('resolves the held invocation as abandoned', async () => {
    const h = await startHarness();
    const { result } = await handOver(h, invocation());
    await h.api.close();
    expect(await result).toEqual({ kind: 'abandoned' });
    // Nothing listens any more.
    await expect(fetch(h.url(`${BASE}/invocation/next`))).rejects.toThrow();
  });
});

// --- child processes -----------------------------------------------------------------------

function spawnChild(
  command: string,
  args: string[],
  address: string,
  stderr: 'inherit' | 'ignore' = 'inherit',
): { child: ChildProcess; lines: () => Promise<string> } {
  const child = spawn(command, args, {
    env: { ...process.env, AWS_LAMBDA_RUNTIME_API: address },
    stdio: ['pipe', 'pipe', stderr],
  });
  children.push(child);
  const buffered: string[] = [];
  const readers: ((line: string) => void)[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    let nl: number;
    while ((nl = partial.indexOf('\n')) !== -1) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      const reader = readers.shift();
      if (reader) reader(line);
      else buffered.push(line);
    }
  });
  const lines = (): Promise<string> => {
    const line = buffered.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      readers.push(resolve);
      child.once('exit', (code) => reject(new Error(`${command} exited with ${code} before printing`)));
    });
  };
  return { child, lines };
}

describe('RuntimeApiServer with real runtimes', () => {
  it('serves a provided.al2023-style bootstrap driven by curl', async () => {
    // The shell runtime is sh plus a curl per request: the authorizer must accept sh's children.
    let tree: ReturnType<typeof processTree> | undefined;
    const h = await startHarness({
      authorize: (socket) => (tree ? peerPidAuthorizer(tree.isAllowedPid, { candidatePids: tree.candidatePids })(socket) : false),
    });
    // stderr ignored: at teardown the closed server makes the loop's last curl report a refusal.
    const { child } = spawnChild('/bin/sh', [`${FIXTURES}bootstrap.sh`], h.api.address, 'ignore');
    tree = processTree(child.pid as number);
    await h.initDone;

    const first = invocation('{"n":1}');
    expect(await h.api.invoke(first)).toEqual({ kind: 'response', body: Buffer.from('{"echo":{"n":1}}') });
    const second = invocation('{"please":"fail"}');
    expect(await h.api.invoke(second)).toEqual({
      kind: 'error',
      errorType: 'Function.ShellFailure',
      body: Buffer.from('{"errorMessage":"shell says no","errorType":"ShellFailure"}'),
    });
    const third = invocation('[1,2,3]');
    expect(await h.api.invoke(third)).toEqual({ kind: 'response', body: Buffer.from('{"echo":[1,2,3]}') });
    expect(h.firstNext).toBe(1);
  });

  it.each([
    ['searching the runtime process tree', true],
    ['searching every process', false],
  ])('refuses another process (%s) and leaves the held invocation to the allowed runtime', async (_name, useTree) => {
    let allowedPid = -1;
    const authorize: RuntimeApiOptions['authorize'] = (socket) => {
      const tree = processTree(allowedPid);
      return useTree
        ? peerPidAuthorizer(tree.isAllowedPid, { candidatePids: tree.candidatePids })(socket)
        : peerPidAuthorizer((pid) => pid === allowedPid)(socket);
    };
    const h = await startHarness({ authorize });
    const runtime = spawnChild(process.execPath, [`${FIXTURES}node-runtime.mjs`, '--wait-go', '--count=1'], h.api.address);
    allowedPid = runtime.child.pid as number;

    // An invocation waits for the environment's runtime, which has not asked yet.
    const inv = invocation('{"secret":42}');
    let settled = false;
    const result = h.api.invoke(inv).then((r) => {
      settled = true;
      return r;
    });

    const intruder = spawnChild(process.execPath, [`${FIXTURES}intruder.mjs`, inv.requestId], h.api.address);
    const seen = JSON.parse(await intruder.lines()) as Record<string, { status?: number; connection?: string; body?: string }>;
    for (const attempt of ['next', 'response', 'error', 'initError']) {
      expect(seen[attempt]?.status, attempt).toBe(403);
      expect(seen[attempt]?.connection, attempt).toBe('close');
      expect(JSON.parse(seen[attempt]?.body ?? '{}')).toMatchObject({ errorType: 'AccessDenied' });
    }
    // Nothing moved: Init is not over, the invocation is neither delivered nor answered.
    expect(h.firstNext).toBe(0);
    expect(h.initErrors).toEqual([]);
    expect(h.api.runtimeState).toBe('Started');
    expect(settled).toBe(false);

    runtime.child.stdin?.write('go\n');
    expect(await runtime.lines()).toBe('done');
    const reply = await result;
    expect(reply).toEqual({ kind: 'response', body: Buffer.from(`runtime:${allowedPid}:{"secret":42}`) });
  });

  it('measures the invoke() round trip with a keep-alive node runtime and the cost of a peer lookup', async () => {
    const h = await startHarness();
    const runtime = spawnChild(process.execPath, [`${FIXTURES}node-runtime.mjs`], h.api.address);
    await h.initDone;
    const payload = Buffer.from('{"ping":true}');
    const expected = Buffer.from(`runtime:${runtime.child.pid}:{"ping":true}`);
    const warmup = 300;
    const n = 3000;
    const samples: number[] = [];
    for (let i = 0; i < warmup + n; i++) {
      const t0 = performance.now();
      const reply = await h.api.invoke(invocation(payload));
      const dt = performance.now() - t0;
      if (reply.kind !== 'response' || !reply.body.equals(expected)) throw new Error(`unexpected reply ${JSON.stringify(reply)}`);
      if (i >= warmup) samples.push(dt);
    }
    samples.sort((a, b) => a - b);
    const q = (p: number): string => (samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? 0).toFixed(3);
    const mean = (samples.reduce((a, b) => a + b, 0) / samples.length).toFixed(3);

    // Peer lookups (what an authorizer does once per connection), timed alone: a connection
    // made by this process, searched for among this process tree's pids or among all processes.
    const lookups: Record<string, string> = {};
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    const socket = await accepted;
    // Worst case of the full search: every other process's fds are read before ours.
    const everyPidOursLast = async (): Promise<number[]> => [
      ...(await readdir('/proc')).filter((n) => /^\d+$/.test(n) && Number(n) !== process.pid).map(Number),
      process.pid,
    ];
    const modes: [string, Parameters<typeof findPeerPid>[1]][] = [
      ['process tree', { candidatePids: processTree(process.pid).candidatePids }],
      ['all processes', {}],
      ['all processes, ours searched last', { candidatePids: everyPidOursLast }],
    ];
    for (const [name, lookupOptions] of modes) {
      const times: number[] = [];
      for (let i = 0; i < 7; i++) {
        const t0 = performance.now();
        const pid = await findPeerPid(socket, lookupOptions);
        times.push(performance.now() - t0);
        expect(pid).toBe(process.pid);
      }
      times.sort((a, b) => a - b);
      lookups[name] = `median ${(times[3] ?? 0).toFixed(2)} ms`;
    }
    client.destroy();
    server.close();
    console.log(
      `invoke() round trip over ${n} invocations: mean ${mean} ms, p50 ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms; ` +
        `peer lookup: ${Object.entries(lookups)
          .map(([name, time]) => `${name} ${time}`)
          .join(', ')} (${(await readdir('/proc')).filter((n) => /^\d+$/.test(n)).length} processes)`,
    );
    runtime.child.kill('SIGKILL');
  });
});
