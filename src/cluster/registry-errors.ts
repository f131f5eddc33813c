/**
 * The errors a registry write on a cluster node can end with besides the registry's own Lambda
 * errors. Both mean the write did not happen, anywhere: the API answers them with a 5xx
 * ServiceException, and the client may try again.
 */

/**
 * Redis cannot be reached, did not answer in time, or no longer holds what the write was based
 * on (the registry lock expired, Redis lost its data). Nothing was changed on any node.
 */
export class RegistryUnavailableError extends Error {
  constructor(
    readonly target: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`The cluster registry on Redis at ${target} is unavailable: ${detail}`, options);
    this.name = new.target.name;
  }
}

/** Other nodes held the cluster's registry lock for longer than the write was willing to wait. */
export class RegistryBusyError extends RegistryUnavailableError {}
