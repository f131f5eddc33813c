/**
 * Functions run in sandboxes that share the host's network, so a function can reach this API on
 * loopback. Invoking another function (by Invoke or its URL) is what a Lambda function may do with its role; changing or
 * reading the account (deleting a function, replacing its code, downloading it) is not: requests
 * that come from a sandbox user's socket get AccessDeniedException for everything but Invoke.
 *
 * Who owns the client's socket is read from /proc/net/tcp once per connection, and only for
 * requests that are not invocations. The check is a hook of every route but the invocation
 * routes, rather than a global hook that first asks whether a request is an invocation: the
 * invoke path runs no hook and no promise for it.
 */
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AccessDeniedException } from '../core/errors.js';
import { URL_PATH_PREFIX } from './function-url/address.js';
import { peerSocket } from '../environments/process/peer-authorizer.js';

/**
 * Routes a sandboxed function may call: Invoke (`/2015-03-31/functions/{name}/invocations`), the
 * older InvokeAsync, and function URLs. `url` is the route's pattern.
 */
function isInvocationRoute(methods: readonly string[], url: string): boolean {
  if (url.startsWith(URL_PATH_PREFIX)) return true;
  if (!methods.every((m) => m === 'POST')) return false;
  return (url.startsWith('/2015-03-31/functions/') && url.endsWith('/invocations')) || (url.startsWith('/2014-11-13/functions/') && url.includes('/invoke-async'));
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.'));
}

export function guardSandboxCallers(app: FastifyInstance, sandboxUid: number): void {
  const verdicts = new WeakMap<Socket, Promise<boolean>>();
  const fromSandbox = (socket: Socket): Promise<boolean> => {
    let verdict = verdicts.get(socket);
    if (verdict === undefined) {
      verdict = isLoopback(socket.remoteAddress)
        ? peerSocket(socket).then((row) => row?.uid === sandboxUid, () => false)
        : Promise.resolve(false);
      verdicts.set(socket, verdict);
    }
    return verdict;
  };
  const guard = async (req: FastifyRequest): Promise<void> => {
    if (await fromSandbox(req.raw.socket)) {
      throw new AccessDeniedException(
        `A function may invoke functions through this API but not ${req.method} ${req.url.split('?', 1)[0] ?? ''}: Laminar refuses requests from inside a sandbox other than Invoke.`,
      );
    }
  };
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? (route.method as string[]) : [route.method as string];
    if (isInvocationRoute(methods, route.url)) return;
    const own = route.onRequest;
    route.onRequest = own === undefined ? [guard] : [guard, ...(Array.isArray(own) ? own : [own])];
  });
}
