/**
 * The context object a Node.js handler receives (RIC `CallbackContext.js` + `InvokeContext.js`):
 * own properties in the RIC's order, methods included, so wrappers that copy it (`{ ...context }`)
 * keep working methods and `console.log(context)` prints what it prints in Lambda.
 *
 * `callbackWaitsForEmptyEventLoop` is an own accessor, as in the RIC, but its getter and setter are
 * the same two functions for every context, finding the invocation's flag through a WeakMap. V8
 * keeps an accessor's functions in the object's hidden class, so an accessor written as an object
 * literal (fresh functions per invocation) costs a new hidden class per context, about 5 µs of CPU
 * and a dictionary-mode object; shared functions keep one hidden class for every context.
 */
import type { BootstrapConfig, InvokeTask } from './protocol.js';

/** What the handler's context controls in its invocation. */
export interface InvocationFlags {
  /** `callbackWaitsForEmptyEventLoop`: a callback success waits for the event loop to empty. */
  waitForEmptyEventLoop: boolean;
}

/** The functions of one invocation that the context carries as methods. */
export interface ContextMethods {
  succeed: (result?: unknown) => void;
  fail: (err?: unknown) => void;
  done: (err?: unknown, result?: unknown) => void;
  getRemainingTimeInMillis: () => number;
}

export interface LambdaContext extends ContextMethods {
  callbackWaitsForEmptyEventLoop: boolean;
  functionVersion: string;
  functionName: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  clientContext: unknown;
  identity: unknown;
  invokedFunctionArn: string;
  awsRequestId: string;
}

const flagsOf = new WeakMap<object, InvocationFlags>();

/** The flags of `target` or of the context it inherits from (`Object.create(context)`). */
function findFlags(target: unknown): InvocationFlags | undefined {
  for (let o = target; typeof o === 'object' && o !== null; o = Object.getPrototypeOf(o) as unknown) {
    const flags = flagsOf.get(o);
    if (flags) return flags;
  }
  return undefined;
}

/** The RIC's accessor, named as an object literal names it (`get callbackWaitsForEmptyEventLoop`). */
const WAITS_FOR_EMPTY_EVENT_LOOP = Object.getOwnPropertyDescriptor(
  {
    get callbackWaitsForEmptyEventLoop(): boolean {
      return findFlags(this)?.waitForEmptyEventLoop ?? true;
    },
    set callbackWaitsForEmptyEventLoop(value: boolean) {
      const flags = findFlags(this);
      if (flags) flags.waitForEmptyEventLoop = value;
    },
  },
  'callbackWaitsForEmptyEventLoop',
) as PropertyDescriptor;

function parseJsonField(text: string | undefined, name: string): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${String(err)}`);
  }
}

/**
 * The context's constructor. Built with `new`, every context gets its fourteen properties in the
 * object itself (V8 sizes a constructor's objects by what it stores), where an object literal
 * filled in afterwards keeps four there and reallocates an overflow array as it grows. Its
 * prototype is Object.prototype, so a context is a plain object, as the RIC's is.
 */
const ContextObject = function (
  this: LambdaContext,
  task: InvokeTask,
  config: BootstrapConfig,
  methods: ContextMethods,
  clientContext: unknown,
  identity: unknown,
): void {
  Object.defineProperty(this, 'callbackWaitsForEmptyEventLoop', WAITS_FOR_EMPTY_EVENT_LOOP);
  // Stores in one order, so every context shares one hidden class.
  this.succeed = methods.succeed;
  this.fail = methods.fail;
  this.done = methods.done;
  this.functionVersion = config.functionVersion;
  this.functionName = config.functionName;
  this.memoryLimitInMB = config.memoryLimitInMB;
  this.logGroupName = config.logGroupName;
  this.logStreamName = config.logStreamName;
  this.clientContext = clientContext;
  this.identity = identity;
  this.invokedFunctionArn = task.invokedFunctionArn;
  this.awsRequestId = task.requestId;
  this.getRemainingTimeInMillis = methods.getRemainingTimeInMillis;
} as unknown as new (task: InvokeTask, config: BootstrapConfig, methods: ContextMethods, clientContext: unknown, identity: unknown) => LambdaContext;
ContextObject.prototype = Object.prototype;

/** Builds one invocation's context; throws when the client context or identity is not JSON. */
export function buildContext(task: InvokeTask, config: BootstrapConfig, flags: InvocationFlags, methods: ContextMethods): LambdaContext {
  const context = new ContextObject(task, config, methods, parseJsonField(task.clientContext, 'ClientContext'), parseJsonField(task.identity, 'CognitoIdentity'));
  flagsOf.set(context, flags);
  return context;
}
