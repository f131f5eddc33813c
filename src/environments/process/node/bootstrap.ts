/**
 * Laminar's Node.js runtime as the main module of a child process: the entry point of a
 * NodeProcessEnvironment. It reads its configuration from Lambda's variables (as the RIC does),
 * imports the handler (Init), reports Init, then serves invocations that arrive as frames on
 * file descriptor 3. Everything the function prints goes to stdout, the environment's one log
 * channel; the process exits when the server closes the pipe, so it never outlives its server.
 */
import { Socket } from 'node:net';
import { nodeMajorOf } from '../../environment-variables.js';
import { layerNodeModulesDirs, OPT_DIRS_VARIABLE } from '../../layer-paths.js';
import type { BootstrapConfig } from '../../node/protocol.js';
import { startNodeRuntime } from '../../node/runtime.js';
import { encodeFrame, FrameReader } from './frames.js';
import type { InvokeHeader, ReplyHeader } from './messages.js';

const env = process.env;
const config: BootstrapConfig = {
  handler: env._HANDLER ?? '',
  codeDir: env.LAMBDA_TASK_ROOT ?? process.cwd(),
  functionName: env.AWS_LAMBDA_FUNCTION_NAME ?? '',
  functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION ?? '',
  memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '',
  logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME ?? '',
  logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME ?? '',
  layerNodeModules: layerNodeModulesDirs(
    // Absent in a sandbox, where the layers are merged at Lambda's own /opt.
    (env[OPT_DIRS_VARIABLE] ?? '/opt').split(':').filter((d) => d !== ''),
    nodeMajorOf((env.AWS_EXECUTION_ENV ?? '').replace(/^AWS_Lambda_/, '')),
  ),
};

const channel = new Socket({ fd: 3, readable: true, writable: true });
channel.on('error', () => process.exit(1));
channel.on('end', () => process.exit(0));

// Taken before the capture replaces it; touching process.stdout here also creates its handle
// now, so it is part of the event loop's baseline rather than new work of the first invocation.
const stdout = process.stdout;
const writeStdout = stdout.write.bind(stdout);
let outputBytes = 0;

/** Peak resident set of this process (getrusage's maxrss), in MB. */
function sampleMemoryMb(): number {
  return Math.max(1, Math.ceil(process.resourceUsage().maxRSS / 1024));
}

const runtime = await startNodeRuntime(config, {
  onOutput: (text) => {
    outputBytes += Buffer.byteLength(text);
    writeStdout(text);
  },
  outputSent: () => outputBytes,
  sampleMemoryMb,
  requireFrom: import.meta.url,
});

function send(header: ReplyHeader, body?: string): void {
  channel.write(encodeFrame(header, body));
}

send(await runtime.init());

const reader = new FrameReader<InvokeHeader>((header, body) => {
  void runtime.invoke({ ...header, payload: body.toString('utf8') }).then((reply) => {
    const { result, ...replyHeader } = reply;
    send(replyHeader, result);
  });
});
channel.on('data', (chunk: Buffer) => reader.push(chunk));
