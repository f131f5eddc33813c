import { ServiceException } from './errors.js';

/**
 * The store that coordinates a cluster of nodes (Redis) cannot be reached, or did not answer in
 * time. Whatever asked (an admission, a release, a registry read) did not happen on this node's
 * say-so: a node that cannot check the shared ledger refuses rather than grant unchecked.
 *
 * It is a `ServiceException`, so an invoke that meets it gets Lambda's 500 `ServiceException`
 * with this message and no extra mapping; callers that treat it differently (the async
 * dispatcher retries rather than counting a function error) recognise it by class.
 */
export class ClusterUnavailableError extends ServiceException {
  /** `action` completes "Laminar could not …", e.g. "admit an invocation of my-fn". */
  constructor(action: string, cause: unknown) {
    super(`Laminar could not ${action}: Redis, which coordinates this cluster, is unreachable (${causeMessage(cause)}).`);
    this.cause = cause;
  }
}

function causeMessage(cause: unknown): string {
  if (cause instanceof Error) return cause.message || cause.name;
  return String(cause);
}
