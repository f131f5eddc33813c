/**
 * The frame headers a Node.js process environment and its runtime exchange (see frames.ts).
 * Bodies travel beside them as raw bytes: the event with `invoke`, the result JSON with a reply.
 */
import type { InvokeRequest } from '../../environment.js';
import type { InitReply, InvokeReply } from '../../node/protocol.js';

/** Server → runtime: one invocation; the frame's body is the event. */
export type InvokeHeader = Omit<InvokeRequest, 'payload'> & { kind: 'invoke' };

/**
 * Runtime → server. Output travels on the runtime's stdout, not in replies; `outputSent` (all
 * bytes written there so far) lets the server wait until every line of the phase has arrived.
 */
export type InitHeader = InitReply;
export type InvokeReplyHeader = Omit<InvokeReply, 'result'>;
export type ReplyHeader = InitHeader | InvokeReplyHeader;
