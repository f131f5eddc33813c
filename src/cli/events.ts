/**
 * `laminar events`: the failed-event store over Laminar's own routes (`/laminar/events/…`),
 * which the AWS SDK has no commands for.
 */

/** A refusal from the server, named after its error type as the SDK's errors are. */
class ServerError extends Error {
  constructor(type: string, message: string) {
    super(message);
    this.name = type;
  }
}

async function call(endpoint: string, method: 'GET' | 'POST', path: string): Promise<unknown> {
  const res = await fetch(new URL(path, endpoint), { method });
  const text = await res.text();
  const body: unknown = text === '' ? undefined : JSON.parse(text);
  if (!res.ok) {
    const b = (body ?? {}) as { message?: string };
    throw new ServerError(res.headers.get('x-amzn-errortype') ?? `HTTP ${res.status}`, b.message ?? text);
  }
  return body;
}

/** `laminar events failed NAME`: every stored event of the function, oldest first, all pages. */
export async function failedEvents(endpoint: string, functionName: string): Promise<unknown[]> {
  const out: unknown[] = [];
  let marker: string | undefined;
  do {
    const q = new URLSearchParams({ FunctionName: functionName, ...(marker ? { Marker: marker } : {}) });
    const page = (await call(endpoint, 'GET', `/laminar/events/failed?${q}`)) as { FailedEvents: unknown[]; NextMarker?: string };
    out.push(...page.FailedEvents);
    marker = page.NextMarker;
  } while (marker);
  return out;
}

/** `laminar events replay ID`: queues the stored event again; what the server answered. */
export async function replayEvent(endpoint: string, id: string): Promise<unknown> {
  return call(endpoint, 'POST', `/laminar/events/${encodeURIComponent(id)}/replay`);
}
