/**
 * The Lambda Runtime API endpoint of one process environment. Each environment gets its own
 * server on its own loopback port (its AWS_LAMBDA_RUNTIME_API), so the server never has to work
 * out which environment a request is for: it holds at most one invocation, the one this
 * environment is running, and the runtime state machine of the RIE decides which requests are
 * legal. A plain node:http server, because the endpoint sits on every invocation's path and
 * needs nothing a framework adds (routing is four fixed paths; bodies are bytes).
 *
 * Bodies stay Buffers end to end: the event goes out as the caller's bytes and the runtime's
 * reply comes back as its bytes; nothing here parses or evaluates them.
 */
import { createServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  ACCEPTED,
  DEFAULT_MAX_RESPONSE_BYTES,
  ERR_CONCURRENT,
  FUNCTION_ERROR_TYPE_HEADER,
  NEXT_HEADERS,
  RESPONSE_MODE_HEADER,
  forbiddenPeer,
  headerSafe,
  internalServerError,
  invalidFunctionResponseMode,
  invalidRequestId,
  invalidStateTransition,
  normalizeErrorType,
  requestEntityTooLarge,
  responseTooLargeError,
  route,
  type RuntimeState,
  type StatusBody,
} from './runtime-api-protocol.js';

export type { RuntimeState } from './runtime-api-protocol.js';

export interface RuntimeInvocation {
  requestId: string;
  /** The event, sent as the body of the /next reply exactly as given. */
  payload: Buffer;
  /** Absolute epoch ms (Lambda-Runtime-Deadline-Ms). */
  deadlineMs: number;
  invokedFunctionArn: string;
  traceId?: string;
  /** JSON text of the client context (sync invokes only). */
  clientContext?: string;
  /** JSON text of the Cognito identity. */
  identity?: string;
  /** The tenant of a tenant-isolated function. */
  tenantId?: string;
}

/**
 * How an invocation ended as far as the Runtime API can tell: the runtime answered it (response
 * or error, the error type scrubbed as the RIE does), or the platform gave up on it (`abandon()`
 * or `close()`), in which case the caller already knows why.
 */
export type RuntimeReply =
  | { kind: 'response'; body: Buffer }
  | { kind: 'error'; errorType: string; body: Buffer }
  | { kind: 'abandoned' };

export interface RuntimeApiHooks {
  /** The runtime called /next for the first time: Init is over. */
  onFirstNext(): void;
  /** The runtime reported an Init failure (`/runtime/init/error`); `errorType` is scrubbed. */
  onInitError(errorType: string, body: Buffer): void;
  /** A /next is parked, waiting for an invocation: the runtime is idle. */
  onRuntimeWaiting?(): void;
}

export type ConnectionAuthorizer = (socket: Socket) => boolean | Promise<boolean>;

export interface RuntimeApiOptions {
  /** Largest response or error body accepted; default 6 MiB + 100 bytes, as Lambda. */
  maxResponseBytes?: number;
  /**
   * Decides once per new connection whether its peer may use this endpoint. Requests on a
   * refused connection get 403 and the connection is closed; they never reach the state machine.
   */
  authorize?: ConnectionAuthorizer;
}

interface Held {
  readonly invocation: RuntimeInvocation;
  readonly headers: OutgoingHttpHeaders;
  readonly resolve: (reply: RuntimeReply) => void;
  /** Handed to the runtime by a /next (state Running or later). */
  delivered: boolean;
}

type BodyRead =
  | { kind: 'complete'; body: Buffer }
  | { kind: 'tooLarge'; size: number; prefix: Buffer }
  | { kind: 'aborted' };

export class RuntimeApiServer {
  private state: RuntimeState = 'Started';
  /** The invocation in progress: queued until a /next takes it, then held until answered. */
  private current: Held | undefined;
  /** A /next waiting for an invocation. At most one is kept. */
  private poll: ServerResponse | undefined;
  private readonly sockets = new Set<Socket>();
  /** Authorization verdicts, settled or pending, per connection. */
  private readonly verdicts = new WeakMap<Socket, boolean | Promise<boolean>>();
  private readonly maxResponseBytes: number;
  private readonly authorize: ConnectionAuthorizer | undefined;
  private closing: Promise<void> | undefined;
  private listenAddress = '';

  private constructor(
    private readonly hooks: RuntimeApiHooks,
    private readonly server: Server,
    options: RuntimeApiOptions,
  ) {
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.authorize = options.authorize;
  }

  /** Listens on 127.0.0.1 at an ephemeral port. */
  static async start(hooks: RuntimeApiHooks, options: RuntimeApiOptions = {}): Promise<RuntimeApiServer> {
    const max = options.maxResponseBytes;
    if (max !== undefined && !(Number.isSafeInteger(max) && max >= 0)) {
      throw new TypeError('options.maxResponseBytes must be a non-negative integer');
    }
    const server = createServer({
      // /next is a long poll and a response upload may be slow; the invocation's deadline is
      // enforced by the environment, not by socket timers.
      requestTimeout: 0,
      noDelay: true,
    });
    // The runtime keeps one connection for the environment's whole life; an idle-timeout close
    // would race the runtime's next request on a reused socket.
    server.keepAliveTimeout = 0;
    server.timeout = 0;
    const api = new RuntimeApiServer(hooks, server, options);
    server.on('connection', (socket: Socket) => api.onConnection(socket));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => api.onRequest(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Accept failures (EMFILE, ECONNABORTED) surface as server 'error' events; without a
    // listener one environment's endpoint would take the whole platform down. The server keeps
    // accepting, and the environment's deadline covers a runtime that cannot get through.
    server.on('error', () => {});
    const { port } = server.address() as AddressInfo;
    api.listenAddress = `127.0.0.1:${port}`;
    return api;
  }

  /** `127.0.0.1:PORT`, the value of AWS_LAMBDA_RUNTIME_API. */
  get address(): string {
    return this.listenAddress;
  }

  /** The runtime's state, in the RIE's names. */
  get runtimeState(): RuntimeState {
    return this.state;
  }

  /** True while a /next is parked waiting for an invocation. */
  get runtimeWaiting(): boolean {
    return this.poll !== undefined;
  }

  /**
   * Hands an invocation to the parked /next, or to the next one that arrives, and resolves
   * with the runtime's answer. One invocation at a time; rejects (a caller bug, not a function
   * failure) when another is in progress, Init failed, or the server is closed.
   */
  invoke(invocation: RuntimeInvocation): Promise<RuntimeReply> {
    if (this.closing) return Promise.reject(new Error('The Runtime API server is closed'));
    if (this.state === 'InitError') return Promise.reject(new Error('The runtime failed Init; it takes no invocations'));
    if (this.current) {
      return Promise.reject(new Error(`Invocation ${this.current.invocation.requestId} is still in progress`));
    }
    const headers = nextHeaders(invocation);
    return new Promise<RuntimeReply>((resolve) => {
      const held: Held = { invocation, headers, resolve, delivered: false };
      this.current = held;
      const poll = this.poll;
      if (poll && isOpen(poll)) {
        this.poll = undefined;
        this.deliver(poll, held);
      }
    });
  }

  /**
   * Ends the invocation without the runtime (timeout, crash): `invoke()` resolves `abandoned`,
   * an undelivered invocation is withdrawn, and later replies for it get 403 and change nothing.
   * Unknown or finished ids are ignored.
   */
  abandon(requestId: string): void {
    const held = this.current;
    if (!held || held.invocation.requestId !== requestId) return;
    if (held.delivered) this.state = 'RuntimeResponseSentState';
    this.finish(held, { kind: 'abandoned' });
  }

  /** Stops listening and destroys every connection, parked long polls included. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      const held = this.current;
      if (held) this.finish(held, { kind: 'abandoned' });
      this.poll = undefined;
      this.closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const socket of this.sockets) socket.destroy();
      this.sockets.clear();
    }
    return this.closing;
  }

  // --- connections -------------------------------------------------------------------------

  private onConnection(socket: Socket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const authorize = this.authorize;
    if (!authorize) return;
    const verdict = Promise.resolve()
      .then(() => authorize(socket))
      .then(
        (ok) => ok === true,
        () => false,
      );
    this.verdicts.set(socket, verdict);
    // Later requests on this connection skip the await once the verdict is known.
    void verdict.then((ok) => this.verdicts.set(socket, ok));
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    if (!this.authorize) {
      this.dispatch(req, res);
      return;
    }
    const verdict = this.verdicts.get(req.socket) ?? false;
    if (verdict === true) this.dispatch(req, res);
    else if (verdict === false) this.refuse(res);
    else void verdict.then((ok) => (ok ? this.dispatch(req, res) : this.refuse(res)));
  }

  private refuse(res: ServerResponse): void {
    const socket = res.socket;
    send(res, forbiddenPeer(), { Connection: 'close' });
    res.once('finish', () => socket?.destroy());
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    if (this.closing) {
      res.socket?.destroy();
      return;
    }
    this.handle(req, res).catch(() => {
      if (!res.headersSent) send(res, internalServerError());
      else res.destroy();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const r = route(req.method, req.url);
    switch (r.kind) {
      case 'next':
        return this.next(res);
      case 'response':
      case 'error':
        return this.reply(req, res, r.requestId, r.kind);
      case 'initError':
        return this.initError(req, res);
      case 'ping':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 4 });
        res.end('pong');
        return;
      case 'methodNotAllowed':
        res.writeHead(405, { allow: r.allow, 'content-length': 0 });
        res.end();
        return;
      case 'notFound': {
        const body = Buffer.from('404 page not found\n');
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length });
        res.end(body);
        return;
      }
    }
  }

  // --- the runtime state machine -----------------------------------------------------------

  private next(res: ServerResponse): void {
    switch (this.state) {
      case 'Started':
        this.state = 'Ready';
        this.hooks.onFirstNext();
        break;
      case 'RuntimeResponseSentState':
        this.state = 'Ready';
        break;
      case 'Ready':
        // One waiting poll per environment: a second one would be answered with the same
        // event, so the newcomer is refused and the first keeps its place.
        if (this.poll && isOpen(this.poll)) return send(res, invalidStateTransition('Ready', 'Ready', ERR_CONCURRENT));
        break;
      case 'Running':
        // As the RIE does: asking again before answering gets the held invocation again.
        if (this.current) return this.deliver(res, this.current);
        break;
      default:
        return send(res, invalidStateTransition(this.state, 'Ready'));
    }
    const queued = this.current;
    if (queued && !queued.delivered) return this.deliver(res, queued);
    this.park(res);
  }

  private park(res: ServerResponse): void {
    this.poll = res;
    res.once('close', () => {
      // The runtime went away (or the reply was sent); either way this poll is spent.
      if (this.poll === res) this.poll = undefined;
    });
    this.hooks.onRuntimeWaiting?.();
  }

  private deliver(res: ServerResponse, held: Held): void {
    held.delivered = true;
    this.state = 'Running';
    res.writeHead(200, held.headers);
    res.end(held.invocation.payload);
  }

  private async reply(req: IncomingMessage, res: ServerResponse, requestId: string, kind: 'response' | 'error'): Promise<void> {
    const to: RuntimeState = kind === 'response' ? 'InvocationResponse' : 'InvocationErrorResponse';
    const held = this.current;
    // With nothing held every reply is out of turn, whatever id it names (late, repeated or
    // unknown); with an invocation held, only its id is accepted.
    if (this.state !== 'Running' || !held) return send(res, invalidStateTransition(this.state, to));
    if (requestId !== held.invocation.requestId) return send(res, invalidRequestId());

    if (kind === 'response') {
      const mode = req.headers[RESPONSE_MODE_HEADER];
      if (mode !== undefined && mode !== 'streaming') {
        this.state = 'RuntimeResponseSentState';
        this.finish(held, { kind: 'error', errorType: 'Runtime.InvalidResponseModeHeader', body: Buffer.alloc(0) });
        return send(res, invalidFunctionResponseMode());
      }
    }
    const errorType = kind === 'error' ? normalizeErrorType(headerValue(req.headers[FUNCTION_ERROR_TYPE_HEADER])) : '';

    this.state = to;
    const read = await readBody(req, this.maxResponseBytes);
    if (this.current !== held) {
      // Abandoned (or closed) while the body was arriving: the invocation is over.
      return send(res, invalidStateTransition(this.state, to));
    }
    if (read.kind === 'aborted') {
      // The upload broke off; the invocation is still the runtime's to answer.
      this.state = 'Running';
      return;
    }
    this.state = 'RuntimeResponseSentState';
    if (read.kind === 'tooLarge') {
      this.finish(held, { kind: 'error', ...responseTooLargeError(read.size, this.maxResponseBytes) });
      return send(res, requestEntityTooLarge(this.maxResponseBytes));
    }
    this.finish(held, kind === 'response' ? { kind, body: read.body } : { kind, errorType, body: read.body });
    send(res, ACCEPTED);
  }

  private async initError(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.state !== 'Started') return send(res, invalidStateTransition(this.state, 'InitError'));
    this.state = 'InitError';
    const errorType = normalizeErrorType(headerValue(req.headers[FUNCTION_ERROR_TYPE_HEADER]));
    const read = await readBody(req, this.maxResponseBytes);
    if (read.kind === 'aborted') {
      this.state = 'Started';
      return;
    }
    // An oversized report is cut at the limit rather than lost: it is a diagnostic.
    const body = read.kind === 'complete' ? read.body : read.prefix;
    this.hooks.onInitError(errorType, body);
    // An invocation already waiting (Init running inside the first invoke) fails with it.
    const queued = this.current;
    if (queued && !queued.delivered) this.finish(queued, { kind: 'error', errorType, body });
    send(res, ACCEPTED);
  }

  private finish(held: Held, reply: RuntimeReply): void {
    if (this.current === held) this.current = undefined;
    held.resolve(reply);
  }
}

function nextHeaders(inv: RuntimeInvocation): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {
    'Content-Type': 'application/json',
    'Content-Length': inv.payload.length,
  };
  const set = (name: string, value: string | undefined): void => {
    if (value !== undefined && value !== '') headers[name] = headerSafe(value);
  };
  set(NEXT_HEADERS.requestId, inv.requestId);
  set(NEXT_HEADERS.deadlineMs, String(Math.trunc(inv.deadlineMs)));
  set(NEXT_HEADERS.invokedFunctionArn, inv.invokedFunctionArn);
  set(NEXT_HEADERS.traceId, inv.traceId);
  set(NEXT_HEADERS.clientContext, inv.clientContext);
  set(NEXT_HEADERS.identity, inv.identity);
  set(NEXT_HEADERS.tenantId, inv.tenantId);
  return headers;
}

/** A parked poll can still be answered (its 'close' may not have been processed yet). */
function isOpen(res: ServerResponse): boolean {
  return !res.destroyed && res.socket !== null && !res.socket.destroyed;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function send(res: ServerResponse, { status, body }: StatusBody, extra: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { ...extra, 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

/**
 * Reads a body up to `limit` bytes. Past the limit the rest is counted and dropped, so memory
 * stays bounded while the exact size (reported in Lambda's error message) is still known and
 * the connection stays usable.
 */
function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  return new Promise<BodyRead>((resolve) => {
    const chunks: Buffer[] = [];
    let kept = 0;
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (kept < limit) {
        const part = kept + chunk.length <= limit ? chunk : chunk.subarray(0, limit - kept);
        chunks.push(part);
        kept += part.length;
      }
    });
    req.once('end', () => {
      const body = Buffer.concat(chunks, kept);
      resolve(size > limit ? { kind: 'tooLarge', size, prefix: body } : { kind: 'complete', body });
    });
    req.once('error', () => resolve({ kind: 'aborted' }));
    req.once('close', () => {
      if (!req.complete) resolve({ kind: 'aborted' });
    });
  });
}
