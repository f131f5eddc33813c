/**
 * A function's layers are usable from its code, through the SDK against a real server: Node.js
 * packages from `nodejs/node_modules` and `nodejs/node20/node_modules` for `require` and `import`
 * (later layers first, the function's own node_modules before any layer), a custom runtime whose
 * bootstrap and tools come from a layer, and Lambda's limit on code and layers together.
 */
import {
  CreateFunctionCommand,
  InvokeCommand,
  PublishLayerVersionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, startLaminar, type Harness } from '../helpers/laminar.js';
import { makeZip, type ZipItem } from '../unit/registry/helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startLaminar();
});
afterAll(async () => h.close());

const uid = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
const ROLE = 'arn:aws:iam::000000000000:role/test';

async function publishLayer(items: ZipItem[]): Promise<string> {
  const out = await h.client.send(new PublishLayerVersionCommand({ LayerName: uid('layer'), Content: { ZipFile: await makeZip(items) } }));
  return out.LayerVersionArn as string;
}

/** A CommonJS package `name` whose main module is `body`. */
const cjsPackage = (root: string, name: string, body: string): ZipItem[] => [
  { name: `${root}/${name}/package.json`, content: JSON.stringify({ name, main: 'main.js' }) },
  { name: `${root}/${name}/main.js`, content: body },
];

async function createFunction(items: ZipItem[], layers: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const name = uid('fn');
  await h.client.send(
    new CreateFunctionCommand({
      FunctionName: name,
      Role: ROLE,
      Runtime: 'nodejs20.x' as Runtime,
      Handler: 'index.handler',
      Code: { ZipFile: await makeZip(items) },
      Layers: layers,
      ...extra,
    }),
  );
  await waitUntilFunctionActiveV2({ client: h.client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { FunctionName: name });
  return name;
}

async function invoke(name: string, event: unknown = {}) {
  const out = await h.client.send(new InvokeCommand({ FunctionName: name, Payload: JSON.stringify(event), LogType: 'Tail' }));
  return { error: out.FunctionError, body: decode(out.Payload) as Record<string, unknown>, log: Buffer.from(out.LogResult ?? '', 'base64').toString('utf8') };
}

/** Handlers that report what `pick` resolves to, in each module system. */
const CJS_PICK = { name: 'index.js', content: "exports.handler = async () => ({ pick: require('pick') });" };
const ESM_PICK = { name: 'index.mjs', content: "import pick from 'pick';\nexport const handler = async () => ({ pick });" };

describe('Node.js packages from layers (thread environments)', () => {
  let shared: string;
  beforeAll(async () => {
    // `shout` needs `letters`, a dependency the layer carries beside it; `caps` is ESM only.
    shared = await publishLayer([
      ...cjsPackage('nodejs/node_modules', 'shout', "const { upper } = require('letters');\nmodule.exports = (s) => upper(s) + '!';"),
      ...cjsPackage('nodejs/node_modules', 'letters', 'exports.upper = (s) => s.toUpperCase();'),
      { name: 'nodejs/node_modules/caps/package.json', content: JSON.stringify({ name: 'caps', type: 'module', exports: { import: './caps.js' } }) },
      { name: 'nodejs/node_modules/caps/caps.js', content: 'export const caps = (s) => s.toUpperCase();' },
    ]);
  });

  it('a CommonJS function requires a layer package and its dependency', async () => {
    const fn = await createFunction([{ name: 'index.js', content: "const shout = require('shout');\nexports.handler = async (e) => shout(e.text);" }], [shared]);
    const { error, body } = await invoke(fn, { text: 'hello' });
    expect(error, JSON.stringify(body)).toBeUndefined();
    expect(body).toBe('HELLO!');
  });

  it('an ESM function imports a layer package (CommonJS and ESM-only ones); a missing package is still Runtime.ImportModuleError', async () => {
    const fn = await createFunction(
      [
        {
          name: 'index.mjs',
          content: "import shout from 'shout';\nimport { caps } from 'caps';\nexport const handler = async (e) => ({ shout: shout(e.text), caps: caps(e.text) });",
        },
      ],
      [shared],
    );
    const { error, body } = await invoke(fn, { text: 'esm' });
    expect(error, JSON.stringify(body)).toBeUndefined();
    expect(body).toEqual({ shout: 'ESM!', caps: 'ESM' });

    const missing = await createFunction([{ name: 'index.mjs', content: "import 'not-in-any-layer';\nexport const handler = async () => 1;" }], [shared]);
    const failed = await invoke(missing);
    expect(failed.error).toBe('Unhandled');
    expect(failed.body.errorType).toBe('Runtime.ImportModuleError');
    expect(String(failed.body.errorMessage)).toContain('not-in-any-layer');
  });

  it('a later layer wins, and nodejs/node20/node_modules before nodejs/node_modules, for require and import', async () => {
    const a = await publishLayer(cjsPackage('nodejs/node_modules', 'pick', "module.exports = 'A';"));
    const b = await publishLayer(cjsPackage('nodejs/node_modules', 'pick', "module.exports = 'B';"));
    const versioned = await publishLayer(cjsPackage('nodejs/node20/node_modules', 'pick', "module.exports = 'node20';"));
    for (const handler of [CJS_PICK, ESM_PICK]) {
      expect((await invoke(await createFunction([handler], [a, b]))).body, handler.name).toEqual({ pick: 'B' });
      expect((await invoke(await createFunction([handler], [b, a]))).body, handler.name).toEqual({ pick: 'A' });
      // Lambda's NODE_PATH puts /opt/nodejs/node20/node_modules first, whichever layer filled it.
      expect((await invoke(await createFunction([handler], [versioned, b]))).body, handler.name).toEqual({ pick: 'node20' });
    }
  });

  it("the function's own node_modules win over a layer's", async () => {
    const layer = await publishLayer(cjsPackage('nodejs/node_modules', 'pick', "module.exports = 'layer';"));
    const own = cjsPackage('node_modules', 'pick', "module.exports = 'own';");
    for (const handler of [CJS_PICK, ESM_PICK]) {
      expect((await invoke(await createFunction([handler, ...own], [layer]))).body, handler.name).toEqual({ pick: 'own' });
      // The same layer does serve a function without its own copy.
      expect((await invoke(await createFunction([handler], [layer]))).body, handler.name).toEqual({ pick: 'layer' });
    }
  });
});

describe('custom runtimes from layers (process environments)', () => {
  it("runs a bootstrap from a layer that calls a tool from the layer's bin; LD_LIBRARY_PATH and PATH name /opt, where the layers are merged", async () => {
    const BOOTSTRAP = [
      '#!/bin/sh',
      'set -eu',
      'API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"',
      'while true; do',
      '  HEADERS="$(mktemp)"',
      '  EVENT="$(curl -sS -LD "$HEADERS" "$API/invocation/next")"',
      '  REQUEST_ID="$(grep -Fi Lambda-Runtime-Aws-Request-Id "$HEADERS" | tr -d \'[:space:]\' | cut -d: -f2)"',
      '  rm -f "$HEADERS"',
      '  TOOL="$(layer-tool "$(cat "$LAMBDA_TASK_ROOT/word.txt")")"',
      '  curl -sS -X POST "$API/invocation/$REQUEST_ID/response" \\',
      '    -d "{\\"tool\\":\\"$TOOL\\",\\"lib\\":\\"$LD_LIBRARY_PATH\\",\\"opt\\":\\"${LAMINAR_OPT_DIRS-unset}\\",\\"path\\":\\"$PATH\\",\\"event\\":$EVENT}" >/dev/null',
      'done',
    ].join('\n');
    const runtime = await publishLayer([
      { name: 'bootstrap', content: BOOTSTRAP, mode: 0o100755 },
      { name: 'bin/layer-tool', content: '#!/bin/sh\necho "tool says $1"\n', mode: 0o100755 },
    ]);
    const extra = await publishLayer([{ name: 'lib/libextra.txt', content: 'not really a library' }]);
    const fn = await createFunction([{ name: 'word.txt', content: 'hi' }], [runtime, extra], { Runtime: 'provided.al2023', Handler: 'function.handler' });
    const { error, body } = await invoke(fn, { n: 1 });
    expect(error, JSON.stringify(body)).toBeUndefined();
    expect(body.tool).toBe('tool says hi');
    expect(body.event).toEqual({ n: 1 });

    // Sandboxed (the default, and bubblewrap is installed wherever the suite runs), the layers are
    // merged in order at /opt, and the variables are Lambda's own.
    expect(h.laminar.isolation.enabled).toBe(true);
    // No variable of Laminar's own names them: /opt is where Lambda's runtimes look.
    expect(body.opt).toBe('unset');
    expect(String(body.lib).split(':').slice(-1)).toEqual(['/opt/lib']);
    // Lambda's PATH ends with /opt/bin.
    expect(String(body.path).split(':').slice(-1)).toEqual(['/opt/bin']);
  });
});

describe('code and layers together stay within 262,144,000 bytes unzipped', () => {
  const LIMIT = 262_144_000;
  /** Just over half the limit: two of these are over it, one is not. */
  const HALF = LIMIT / 2 + 1;
  const bigZip = (name: string) => makeZip([{ name, content: Buffer.alloc(HALF) }]);
  const refusal = (actual: number) =>
    `Function code combined with layers exceeds the maximum allowed size of ${LIMIT} bytes. The actual size is ${actual} bytes.`;

  async function failure(p: Promise<unknown>): Promise<{ type: string; message: string; status: number | undefined }> {
    try {
      await p;
    } catch (e) {
      const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
      return { type: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
    }
    throw new Error('expected the call to fail');
  }

  it('is checked on CreateFunction, UpdateFunctionCode and UpdateFunctionConfiguration', { timeout: 60_000 }, async () => {
    const zip = await bigZip('nodejs/big.bin');
    // The same content twice: one extraction, counted once per layer as Lambda counts it.
    const one = (await h.client.send(new PublishLayerVersionCommand({ LayerName: uid('big'), Content: { ZipFile: zip } }))).LayerVersionArn as string;
    const two = (await h.client.send(new PublishLayerVersionCommand({ LayerName: uid('big'), Content: { ZipFile: zip } }))).LayerVersionArn as string;
    const small = { name: 'index.js', content: 'exports.handler = async () => 1;' };
    const smallSize = Buffer.byteLength(small.content);

    const created = await failure(createFunction([small], [one, two]));
    expect(created).toEqual({ type: 'InvalidParameterValueException', message: refusal(smallSize + 2 * HALF), status: 400 });

    const fn = await createFunction([small], [one]);
    const configured = await failure(h.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, Layers: [one, two] })));
    expect(configured).toEqual({ type: 'InvalidParameterValueException', message: refusal(smallSize + 2 * HALF), status: 400 });

    const code = await failure(h.client.send(new UpdateFunctionCodeCommand({ FunctionName: fn, ZipFile: await bigZip('big.bin') })));
    expect(code).toEqual({ type: 'InvalidParameterValueException', message: refusal(2 * HALF), status: 400 });

    // Nothing changed: the function still runs its small code with its one layer.
    expect((await invoke(fn)).body).toBe(1);
  });
});
