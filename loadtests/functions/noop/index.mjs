// The cheapest possible handler: what is left is the platform's own overhead. A prewarm sends
// {"holdMs": n} so that every request of its burst is in flight at once and holds an environment
// of its own; a measured request carries no holdMs and returns at once.
const OK = { ok: true };
export const handler = async (event) => (event?.holdMs > 0 ? new Promise((r) => setTimeout(r, event.holdMs, OK)) : OK);
