/**
 * Layers through the AWS SDK: the version lifecycle, paging and filters, AWS's recorded refusals
 * (LocalStack's snapshots of real AWS answers, TestLambdaLayer), functions referencing layers,
 * deletion while in use, and persistence across a restart.
 */
import {
  DeleteFunctionCommand,
  DeleteLayerVersionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
  InvokeCommand,
  ListLayersCommand,
  ListLayerVersionsCommand,
  paginateListLayerVersions,
  PublishLayerVersionCommand,
  PublishVersionCommand,
  UpdateFunctionConfigurationCommand,
  waitUntilFunctionUpdatedV2,
  type Architecture,
  type LambdaClient,
  type PublishLayerVersionCommandInput,
  type PublishLayerVersionCommandOutput,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decode, deployFixture, startLaminar, type Harness } from '../helpers/laminar.js';
import { makeZip } from '../unit/registry/helpers.js';

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const LAYER = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:${name}`;
/** AWS's pattern for a versioned layer ARN, as its ValidationExceptions quote it. */
const LAYER_VERSION_ARN_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)';
const CURRENT_RUNTIMES =
  '[nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2]';
const ALL_LAYER_RUNTIMES =
  '[ruby3.5, ruby2.6, dotnetcore1.0, python3.7, nodejs8.10, nasa, ruby2.7, python2.7-greengrass, dotnetcore2.0, python3.8, java21, dotnet6, dotnetcore2.1, python3.9, java11, nodejs6.10, provided, dotnetcore3.1, dotnet8, java25, java17, nodejs, nodejs4.3, java8.al2, go1.x, dotnet10, nodejs20.x, go1.9, byol, nodejs10.x, provided.al2023, nodejs22.x, python3.10, java8, nodejs12.x, python3.11, nodejs24.x, nodejs8.x, python3.12, nodejs14.x, nodejs8.9, nodejs26.x, python3.13, python3.14, nodejs16.x, python3.15, provided.al2, nodejs4.3-edge, nodejs18.x, ruby3.2, python3.4, ruby3.3, ruby3.4, ruby2.5, python3.6, python2.7]';
const NOT_FOUND = 'The resource you requested does not exist.';

const uid = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 8)}`;
/** A layer zip whose content (and so its SHA-256) is unique to `tag`. */
const layerZip = (tag: string) => makeZip([{ name: 'nodejs/node_modules/greet/index.js', content: `module.exports = () => ${JSON.stringify(tag)};` }]);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('base64');

interface Failure {
  type: string;
  message: string;
  status: number | undefined;
}
async function failure(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (e) {
    const err = e as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { type: err.name, message: err.message, status: err.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

async function publish(
  client: LambdaClient,
  name: string,
  zip: Buffer,
  extra: Partial<PublishLayerVersionCommandInput> = {},
): Promise<PublishLayerVersionCommandOutput> {
  return client.send(new PublishLayerVersionCommand({ LayerName: name, Content: { ZipFile: zip }, ...extra }));
}

/** The response without the SDK's metadata. */
function body<T extends { $metadata?: unknown }>(out: T): Omit<T, '$metadata'> {
  const { $metadata: _m, ...rest } = out;
  return rest;
}

let h: Harness;
beforeAll(async () => {
  h = await startLaminar();
});
afterAll(async () => h.close());

describe('layer version lifecycle', () => {
  it('publishes versions 1 and 2, reads them by name and by ARN, lists them newest first, and never reuses a number', async () => {
    const name = uid('lib');
    const zip = await layerZip(name);
    const v1 = await publish(h.client, name, zip, {
      CompatibleRuntimes: ['nodejs20.x' as Runtime],
      CompatibleArchitectures: ['x86_64' as Architecture],
      LicenseInfo: 'MIT',
      Description: 'greeting helpers',
    });
    expect(v1.$metadata.httpStatusCode).toBe(201);
    expect(body(v1)).toEqual({
      LayerArn: LAYER(name),
      LayerVersionArn: `${LAYER(name)}:1`,
      Version: 1,
      Description: 'greeting helpers',
      CreatedDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/),
      CompatibleRuntimes: ['nodejs20.x'],
      CompatibleArchitectures: ['x86_64'],
      LicenseInfo: 'MIT',
      Content: { Location: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/laminar\/code\/[0-9a-f]{64}\.zip$/), CodeSha256: sha256(zip), CodeSize: zip.length },
    });
    // Content.Location serves the archive itself.
    const fetched = Buffer.from(await (await fetch(v1.Content?.Location as string)).arrayBuffer());
    expect(fetched.equals(zip)).toBe(true);

    // Nothing needs to change for a second version.
    const v2 = await publish(h.client, name, zip, {
      CompatibleRuntimes: ['nodejs20.x' as Runtime],
      CompatibleArchitectures: ['x86_64' as Architecture],
      LicenseInfo: 'MIT',
      Description: 'greeting helpers',
    });
    expect(v2.Version).toBe(2);
    expect(v2.Content?.CodeSha256).toBe(v1.Content?.CodeSha256);

    const got = await h.client.send(new GetLayerVersionCommand({ LayerName: name, VersionNumber: 1 }));
    expect(got.$metadata.httpStatusCode).toBe(200);
    expect(body(got)).toEqual(body(v1));
    expect(body(await h.client.send(new GetLayerVersionByArnCommand({ Arn: `${LAYER(name)}:1` })))).toEqual(body(v1));
    // LayerName may be the layer's ARN.
    expect(body(await h.client.send(new GetLayerVersionCommand({ LayerName: LAYER(name), VersionNumber: 2 })))).toEqual(body(v2));

    const listed = await h.client.send(new ListLayerVersionsCommand({ LayerName: name }));
    const item = (v: PublishLayerVersionCommandOutput) => ({
      LayerVersionArn: v.LayerVersionArn,
      Version: v.Version,
      Description: 'greeting helpers',
      CreatedDate: v.CreatedDate,
      CompatibleRuntimes: ['nodejs20.x'],
      CompatibleArchitectures: ['x86_64'],
      LicenseInfo: 'MIT',
    });
    expect(body(listed)).toEqual({ LayerVersions: [item(v2), item(v1)] });

    for (const VersionNumber of [1, 2]) {
      const deleted = await h.client.send(new DeleteLayerVersionCommand({ LayerName: name, VersionNumber }));
      expect(deleted.$metadata.httpStatusCode).toBe(204);
    }
    expect((await h.client.send(new ListLayerVersionsCommand({ LayerName: name }))).LayerVersions).toEqual([]);
    // The archive is gone with its last user.
    expect((await fetch(v1.Content?.Location as string)).status).toBe(404);
    // Deleting every version does not reset the counter.
    expect((await publish(h.client, name, zip)).Version).toBe(3);
  });

  it('reports optional members as given: absent when left out, empty lists when sent empty (test_layer_exceptions publish_empty_result)', async () => {
    const zip = await layerZip(uid('plain'));
    const bare = await publish(h.client, uid('bare'), zip);
    expect(Object.keys(body(bare)).sort()).toEqual(['Content', 'CreatedDate', 'Description', 'LayerArn', 'LayerVersionArn', 'Version']);
    expect(bare.Description).toBe('');
    const empty = await publish(h.client, uid('empty'), zip, { CompatibleRuntimes: [], CompatibleArchitectures: [] });
    expect(empty.CompatibleRuntimes).toEqual([]);
    expect(empty.CompatibleArchitectures).toEqual([]);
    expect(empty.LicenseInfo).toBeUndefined();
  });

  it('accepts runtimes AWS has retired among CompatibleRuntimes, up to 15 (test_layer_compatibilities)', async () => {
    const runtimes = ['java25', 'java21', 'java17', 'java11', 'java8.al2', 'java8', 'dotnet10', 'dotnet8', 'dotnet6', 'dotnetcore3.1', 'go1.x', 'ruby3.4', 'ruby3.3', 'ruby3.2', 'ruby2.7'];
    const out = await publish(h.client, uid('many'), await layerZip(uid('many')), {
      CompatibleRuntimes: runtimes as Runtime[],
      CompatibleArchitectures: ['arm64', 'x86_64'] as Architecture[],
    });
    expect(out.CompatibleRuntimes).toEqual(runtimes);
    expect(out.CompatibleArchitectures).toEqual(['arm64', 'x86_64']);
  });
});

describe('paging and filters', () => {
  let p: Harness;
  beforeAll(async () => {
    p = await startLaminar();
  });
  afterAll(async () => p.close());

  it('ListLayerVersions pages newest first and filters on runtime and architecture', async () => {
    const zip = await layerZip('paged');
    const spec: [Runtime[], Architecture[]][] = [
      [['nodejs20.x' as Runtime], ['x86_64' as Architecture]],
      [['nodejs22.x' as Runtime], ['arm64' as Architecture]],
      [['nodejs20.x', 'nodejs22.x'] as Runtime[], ['x86_64', 'arm64'] as Architecture[]],
      [['python3.12' as Runtime], ['x86_64' as Architecture]],
      [[], []],
    ];
    for (const [CompatibleRuntimes, CompatibleArchitectures] of spec) await publish(p.client, 'paged', zip, { CompatibleRuntimes, CompatibleArchitectures });

    const pages: number[][] = [];
    let Marker: string | undefined;
    do {
      const page = await p.client.send(new ListLayerVersionsCommand({ LayerName: 'paged', MaxItems: 2, ...(Marker ? { Marker } : {}) }));
      pages.push((page.LayerVersions ?? []).map((v) => v.Version as number));
      Marker = page.NextMarker;
    } while (Marker);
    expect(pages).toEqual([[5, 4], [3, 2], [1]]);

    const versions = async (filter: { CompatibleRuntime?: Runtime; CompatibleArchitecture?: Architecture }) => {
      const out: number[] = [];
      for await (const page of paginateListLayerVersions({ client: p.client, pageSize: 1 }, { LayerName: 'paged', ...filter })) {
        out.push(...(page.LayerVersions ?? []).map((v) => v.Version as number));
      }
      return out;
    };
    expect(await versions({ CompatibleRuntime: 'nodejs20.x' as Runtime })).toEqual([3, 1]);
    expect(await versions({ CompatibleRuntime: 'nodejs22.x' as Runtime })).toEqual([3, 2]);
    expect(await versions({ CompatibleArchitecture: 'arm64' as Architecture })).toEqual([3, 2]);
    expect(await versions({ CompatibleRuntime: 'nodejs20.x' as Runtime, CompatibleArchitecture: 'arm64' as Architecture })).toEqual([3]);
    expect(await versions({ CompatibleRuntime: 'java21' as Runtime })).toEqual([]);
    expect(await versions({})).toEqual([5, 4, 3, 2, 1]);
  });

  it('ListLayers shows each layer with its newest matching version, by name, in pages', async () => {
    const zip = await layerZip('listed');
    await publish(p.client, 'alpha', zip, { CompatibleRuntimes: ['nodejs20.x' as Runtime], CompatibleArchitectures: ['x86_64' as Architecture] });
    await publish(p.client, 'alpha', zip, { CompatibleRuntimes: ['python3.12' as Runtime], Description: 'second' });
    await publish(p.client, 'beta', zip, { CompatibleRuntimes: ['nodejs20.x' as Runtime] });
    await publish(p.client, 'gamma', zip);
    await p.client.send(new DeleteLayerVersionCommand({ LayerName: 'gamma', VersionNumber: 1 }));

    const all = await p.client.send(new ListLayersCommand({}));
    expect(all.$metadata.httpStatusCode).toBe(200);
    expect(all.NextMarker).toBeUndefined();
    // "paged" comes from the test above; a layer without versions ("gamma") is not listed.
    expect(all.Layers?.map((l) => [l.LayerName, l.LatestMatchingVersion?.Version])).toEqual([['alpha', 2], ['beta', 1], ['paged', 5]]);
    expect(all.Layers?.[0]).toEqual({
      LayerName: 'alpha',
      LayerArn: LAYER('alpha'),
      LatestMatchingVersion: {
        LayerVersionArn: `${LAYER('alpha')}:2`,
        Version: 2,
        Description: 'second',
        CreatedDate: expect.any(String),
        CompatibleRuntimes: ['python3.12'],
      },
    });

    const node = await p.client.send(new ListLayersCommand({ CompatibleRuntime: 'nodejs20.x' as Runtime }));
    expect(node.Layers?.map((l) => [l.LayerName, l.LatestMatchingVersion?.Version])).toEqual([['alpha', 1], ['beta', 1], ['paged', 3]]);
    const arm = await p.client.send(new ListLayersCommand({ CompatibleArchitecture: 'arm64' as Architecture }));
    expect(arm.Layers?.map((l) => [l.LayerName, l.LatestMatchingVersion?.Version])).toEqual([['paged', 3]]);

    const first = await p.client.send(new ListLayersCommand({ MaxItems: 2 }));
    expect(first.Layers?.map((l) => l.LayerName)).toEqual(['alpha', 'beta']);
    expect(first.NextMarker).toEqual(expect.any(String));
    const second = await p.client.send(new ListLayersCommand({ MaxItems: 2, Marker: first.NextMarker as string }));
    expect(second.Layers?.map((l) => l.LayerName)).toEqual(['paged']);
    expect(second.NextMarker).toBeUndefined();
  });
});

describe("AWS's recorded refusals (test_lambda_api.snapshot.json, TestLambdaLayer)", () => {
  let name: string;
  let v1: PublishLayerVersionCommandOutput;
  beforeAll(async () => {
    name = uid('testlayer');
    v1 = await publish(h.client, name, await layerZip(name), {
      CompatibleRuntimes: ['python3.12' as Runtime],
      CompatibleArchitectures: ['x86_64' as Architecture],
    });
  });

  it('test_layer_exceptions: filters, missing layers and versions, version numbers below 1, unversioned ARNs', async () => {
    expect(await failure(h.client.send(new ListLayersCommand({ CompatibleRuntime: 'runtimedoesnotexist' as Runtime })))).toEqual({
      type: 'ValidationException',
      status: 400,
      message: `1 validation error detected: Value 'runtimedoesnotexist' at 'compatibleRuntime' failed to satisfy constraint: Member must satisfy enum value set: ${ALL_LAYER_RUNTIMES}`,
    });
    expect(await failure(h.client.send(new ListLayersCommand({ CompatibleArchitecture: 'archdoesnotexist' as Architecture })))).toEqual({
      type: 'ValidationException',
      status: 400,
      message: "1 validation error detected: Value 'archdoesnotexist' at 'compatibleArchitecture' failed to satisfy constraint: Member must satisfy enum value set: [x86_64, arm64]",
    });
    expect(body(await h.client.send(new ListLayerVersionsCommand({ LayerName: 'layerdoesnotexist' })))).toEqual({ LayerVersions: [] });

    const notFound = { type: 'ResourceNotFoundException', status: 404, message: NOT_FOUND };
    expect(await failure(h.client.send(new GetLayerVersionCommand({ LayerName: 'layerdoesnotexist', VersionNumber: 1 })))).toEqual(notFound);
    const belowOne = { type: 'InvalidParameterValueException', status: 400, message: 'Layer Version Cannot be less than 1' };
    expect(await failure(h.client.send(new GetLayerVersionCommand({ LayerName: name, VersionNumber: -1 })))).toEqual(belowOne);
    expect(await failure(h.client.send(new GetLayerVersionCommand({ LayerName: name, VersionNumber: 0 })))).toEqual(belowOne);
    expect(await failure(h.client.send(new GetLayerVersionCommand({ LayerName: name, VersionNumber: 2 })))).toEqual(notFound);

    expect(await failure(h.client.send(new GetLayerVersionByArnCommand({ Arn: v1.LayerArn as string })))).toEqual({
      type: 'ValidationException',
      status: 400,
      message: `1 validation error detected: Value '${v1.LayerArn}' at 'arn' failed to satisfy constraint: Member must satisfy regular expression pattern: ${LAYER_VERSION_ARN_PATTERN}`,
    });
    expect(await failure(h.client.send(new GetLayerVersionByArnCommand({ Arn: `${v1.LayerArn}:2` })))).toEqual(notFound);
  });

  it('test_layer_exceptions: deleting is idempotent, but not below version 1', async () => {
    const other = uid('deleted');
    await publish(h.client, other, await layerZip(other));
    const statuses: (number | undefined)[] = [];
    for (const [LayerName, VersionNumber] of [['layerdoesnotexist', 1], [other, 2], [other, 1], [other, 1]] as const) {
      statuses.push((await h.client.send(new DeleteLayerVersionCommand({ LayerName, VersionNumber }))).$metadata.httpStatusCode);
    }
    expect(statuses).toEqual([204, 204, 204, 204]);
    expect(await failure(h.client.send(new DeleteLayerVersionCommand({ LayerName: other, VersionNumber: -1 })))).toEqual({
      type: 'InvalidParameterValueException',
      status: 400,
      message: 'Layer Version Cannot be less than 1',
    });
  });

  it('test_layer_exceptions: invalid and partially invalid runtimes and architectures', async () => {
    const zip = await layerZip('refused');
    const archs = (value: string) =>
      `Value '${value}' at 'compatibleArchitectures' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]`;
    expect(
      await failure(publish(h.client, uid('testlayer-2'), zip, { CompatibleRuntimes: ['invalidruntime' as Runtime], CompatibleArchitectures: ['invalidarch' as Architecture] })),
    ).toEqual({
      type: 'ValidationException',
      status: 400,
      message: `2 validation errors detected: Value '[invalidruntime]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: ${CURRENT_RUNTIMES}; ${archs('[invalidarch]')}`,
    });
    expect(
      await failure(
        publish(h.client, uid('testlayer-2'), zip, {
          CompatibleRuntimes: ['invalidruntime', 'invalidruntime2', 'nodejs20.x'] as Runtime[],
          CompatibleArchitectures: ['invalidarch', 'x86_64'] as Architecture[],
        }),
      ),
    ).toEqual({
      type: 'ValidationException',
      status: 400,
      message: `2 validation errors detected: Value '[invalidruntime, invalidruntime2, nodejs20.x]' at 'compatibleRuntimes' failed to satisfy constraint: Member must satisfy enum value set: ${CURRENT_RUNTIMES}; ${archs('[invalidarch, x86_64]')}`,
    });
  });

  it("the model's other constraints and member types, in AWS's words; nothing is published", async () => {
    const zip = (await layerZip('shapes')).toString('base64');
    const send = async (method: string, path: string, payload?: unknown) => {
      const res = await fetch(h.url + path, {
        method,
        ...(payload !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload) } : {}),
      });
      const parsed = (await res.json()) as { message: string };
      return { status: res.status, type: res.headers.get('x-amzn-errortype'), message: parsed.message };
    };
    const v = (value: string, field: string, constraint: string) => ({
      status: 400,
      type: 'ValidationException',
      message: `1 validation error detected: Value ${value === 'null' ? 'null' : `'${value}'`} at '${field}' failed to satisfy constraint: ${constraint}`,
    });
    const P = '/2018-10-31/layers/shapes/versions';
    expect(await send('POST', P, { Description: 'x' })).toEqual(v('null', 'content', 'Member must not be null'));
    expect(await send('POST', P, { Content: { ZipFile: zip }, Description: 'd'.repeat(257) })).toEqual(
      v('d'.repeat(257), 'description', 'Member must have length less than or equal to 256'),
    );
    expect(await send('POST', P, { Content: { ZipFile: zip }, LicenseInfo: 'l'.repeat(513) })).toEqual(
      v('l'.repeat(513), 'licenseInfo', 'Member must have length less than or equal to 512'),
    );
    const sixteen = Array.from({ length: 16 }, () => 'nodejs20.x');
    expect(await send('POST', P, { Content: { ZipFile: zip }, CompatibleRuntimes: sixteen })).toEqual(
      v(`[${sixteen.join(', ')}]`, 'compatibleRuntimes', 'Member must have length less than or equal to 15'),
    );
    expect(await send('POST', P, { Content: { ZipFile: zip }, CompatibleArchitectures: ['x86_64', 'arm64', 'x86_64'] })).toEqual(
      v('[x86_64, arm64, x86_64]', 'compatibleArchitectures', 'Member must have length less than or equal to 2'),
    );
    expect(await send('POST', '/2018-10-31/layers/bad.name/versions', { Content: { ZipFile: zip } })).toEqual(
      v(
        'bad.name',
        'layerName',
        'Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+',
      ),
    );
    expect(await send('GET', '/2018-10-31/layers?MaxItems=51')).toEqual(v('51', 'maxItems', 'Member must have value less than or equal to 50'));
    expect(await send('GET', '/2018-10-31/layers/shapes/versions?MaxItems=0')).toEqual(v('0', 'maxItems', 'Member must have value greater than or equal to 1'));
    expect(await send('GET', '/2018-10-31/layers?find=LayerVersion')).toEqual(v('null', 'arn', 'Member must not be null'));
    for (const [member, value] of [
      ['Description', 5],
      ['CompatibleRuntimes', 'nodejs20.x'],
      ['CompatibleArchitectures', {}],
      ['LicenseInfo', []],
      ['Content', 'zip'],
    ] as const) {
      const res = await send('POST', P, { Content: { ZipFile: zip }, [member]: value });
      expect(res.status).toBe(400);
      expect(res.type).toBe('SerializationException');
      expect(res.message).toContain(`'${member}'`);
    }
    expect(await send('GET', '/2018-10-31/layers/shapes/versions/one')).toMatchObject({ status: 400, type: 'SerializationException' });
    expect(await send('POST', P, { Content: { S3Bucket: 'bucket', S3Key: 'layer.zip' } })).toMatchObject({
      status: 400,
      type: 'InvalidParameterValueException',
    });
    expect((await h.client.send(new ListLayerVersionsCommand({ LayerName: 'shapes' }))).LayerVersions).toEqual([]);
  });
});

describe('functions reference layers', () => {
  let a: PublishLayerVersionCommandOutput[];
  let b: PublishLayerVersionCommandOutput;
  let aName: string;
  beforeAll(async () => {
    aName = uid('shared');
    const zip = await layerZip(aName);
    a = [];
    for (let i = 0; i < 3; i++) a.push(await publish(h.client, aName, zip, { CompatibleArchitectures: ['x86_64' as Architecture], CompatibleRuntimes: [] }));
    const bName = uid('other');
    b = await publish(h.client, bName, await layerZip(bName));
  });
  const arn = (v: PublishLayerVersionCommandOutput) => v.LayerVersionArn as string;
  const waiter = () => ({ client: h.client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 });

  it('CreateFunction and UpdateFunctionConfiguration set Layers; a published version keeps them; [] removes them', async () => {
    const fn = await deployFixture(h.client, 'echo', { Layers: [arn(a[0] as PublishLayerVersionCommandOutput)] });
    const first = await h.client.send(new GetFunctionConfigurationCommand({ FunctionName: fn }));
    expect(first.Layers).toEqual([{ Arn: arn(a[0] as PublishLayerVersionCommandOutput), CodeSize: a[0]?.Content?.CodeSize }]);

    const updated = await h.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, Layers: [arn(b), arn(a[1] as PublishLayerVersionCommandOutput)] }));
    expect(updated.LastUpdateStatus).toBe('InProgress');
    const both = [
      { Arn: arn(b), CodeSize: b.Content?.CodeSize },
      { Arn: arn(a[1] as PublishLayerVersionCommandOutput), CodeSize: a[1]?.Content?.CodeSize },
    ];
    expect(updated.Layers).toEqual(both);
    await waitUntilFunctionUpdatedV2(waiter(), { FunctionName: fn });

    const version = await h.client.send(new PublishVersionCommand({ FunctionName: fn }));
    expect(version.Layers).toEqual(both);
    // The extracted layers, in order, are what an invocation of that version gets.
    const target = h.laminar.registry.resolve(fn, version.Version);
    expect(target.layerDirs).toHaveLength(2);
    expect(readFileSync(join(target.layerDirs[1] as string, 'nodejs/node_modules/greet/index.js'), 'utf8')).toContain(aName);

    await h.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, Layers: [] }));
    await waitUntilFunctionUpdatedV2(waiter(), { FunctionName: fn });
    const latest = await h.client.send(new GetFunctionConfigurationCommand({ FunctionName: fn }));
    expect('Layers' in latest).toBe(false);
    expect(h.laminar.registry.resolve(fn, undefined).layerDirs).toEqual([]);
    expect((await h.client.send(new GetFunctionConfigurationCommand({ FunctionName: fn, Qualifier: version.Version }))).Layers).toEqual(both);

    // A function with layers still runs.
    const out = await h.client.send(new InvokeCommand({ FunctionName: fn, Qualifier: version.Version, Payload: Buffer.from('{"x":1}') }));
    expect(out.FunctionError, JSON.stringify(decode(out.Payload))).toBeUndefined();
    expect((decode(out.Payload) as { event: unknown }).event).toEqual({ x: 1 });
  });

  it("test_layer_function_exceptions and test_layer_function_quota_exception: AWS's refusals", async () => {
    const fn = await deployFixture(h.client, 'echo');
    const update = (Layers: string[]) => failure(h.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, Layers })));
    const invalid = (message: string) => ({ type: 'InvalidParameterValueException', status: 400, message });
    const [one, two, three] = a.map(arn) as [string, string, string];
    const sameLayer = (x: string, y: string) =>
      invalid(`Two different versions of the same layer are not allowed to be referenced in the same function. ${x} and ${y} are versions of the same layer.`);

    expect(await update([one, two])).toEqual(sameLayer(one, two));
    expect(await update([one, two, three])).toEqual(sameLayer(one, two));
    expect(await update([one, one])).toEqual(sameLayer(one, one));
    expect(await update([`${LAYER('doesnotexist')}:1`])).toEqual(invalid(`Layer version ${LAYER('doesnotexist')}:1 does not exist.`));
    expect(await update([`${LAYER(aName)}:9`])).toEqual(invalid(`Layer version ${LAYER(aName)}:9 does not exist.`));
    expect(await update([LAYER(aName)])).toEqual({
      type: 'ValidationException',
      status: 400,
      message: `1 validation error detected: Value '[${LAYER(aName)}]' at 'layers' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: ${LAYER_VERSION_ARN_PATTERN}, Member must not be null]`,
    });
    const elsewhere = `arn:aws:lambda:eu-west-1:${ACCOUNT}:layer:${aName}:1`;
    expect(await failure(deployFixture(h.client, 'echo', { Layers: [elsewhere] }))).toEqual(
      invalid(`Layers are not in the same region as the function. Layers are expected to be in region ${REGION}.`),
    );

    const six: string[] = [arn(b)];
    for (let i = 0; i < 5; i++) {
      const n = uid(`quota-${i}`);
      six.push(arn(await publish(h.client, n, await layerZip(n))));
    }
    expect(await failure(deployFixture(h.client, 'echo', { Layers: six }))).toEqual(invalid('Cannot reference more than 5 layers.'));
    expect(await update(six)).toEqual(invalid('Cannot reference more than 5 layers.'));
    // Five is fine.
    const five = await h.client.send(new UpdateFunctionConfigurationCommand({ FunctionName: fn, Layers: six.slice(0, 5) }));
    expect(five.Layers?.map((l) => l.Arn)).toEqual(six.slice(0, 5));
  });
});

describe('deleting a layer version in use', () => {
  it('is allowed: the function keeps its layer and its copy of the content until nothing uses it', async () => {
    const name = uid('inuse');
    const v1 = await publish(h.client, name, await layerZip(name));
    const fn = await deployFixture(h.client, 'echo', { Layers: [v1.LayerVersionArn as string] });
    const [dir] = h.laminar.registry.resolve(fn, undefined).layerDirs;
    expect(dir !== undefined && existsSync(dir)).toBe(true);

    expect((await h.client.send(new DeleteLayerVersionCommand({ LayerName: name, VersionNumber: 1 }))).$metadata.httpStatusCode).toBe(204);
    const config = await h.client.send(new GetFunctionConfigurationCommand({ FunctionName: fn }));
    expect(config.Layers).toEqual([{ Arn: v1.LayerVersionArn, CodeSize: v1.Content?.CodeSize }]);
    expect(await failure(h.client.send(new GetLayerVersionCommand({ LayerName: name, VersionNumber: 1 })))).toMatchObject({ status: 404 });
    expect(existsSync(dir as string)).toBe(true);
    expect(h.laminar.registry.resolve(fn, undefined).layerDirs).toEqual([dir]);
    // Nobody can start using the deleted version.
    expect(await failure(deployFixture(h.client, 'echo', { Layers: [v1.LayerVersionArn as string] }))).toEqual({
      type: 'InvalidParameterValueException',
      status: 400,
      message: `Layer version ${v1.LayerVersionArn} does not exist.`,
    });

    await h.client.send(new DeleteFunctionCommand({ FunctionName: fn }));
    expect(existsSync(dir as string)).toBe(false);
  });
});

describe('persistence', () => {
  it('layers, their numbering and the functions using them survive a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'laminar-layers-'));
    try {
      let s = await startLaminar({}, {}, dataDir);
      const zip = await layerZip('persisted');
      const v1 = await publish(s.client, 'persisted', zip, { CompatibleRuntimes: ['nodejs20.x' as Runtime], LicenseInfo: 'MIT' });
      await publish(s.client, 'persisted', zip);
      await s.client.send(new DeleteLayerVersionCommand({ LayerName: 'persisted', VersionNumber: 2 }));
      const fn = await deployFixture(s.client, 'echo', { Layers: [v1.LayerVersionArn as string] });
      await s.close();

      s = await startLaminar({}, {}, dataDir);
      try {
        expect(body(await s.client.send(new GetLayerVersionCommand({ LayerName: 'persisted', VersionNumber: 1 })))).toEqual({
          ...body(v1),
          Content: { ...v1.Content, Location: expect.stringContaining('/laminar/code/') },
        });
        expect((await s.client.send(new ListLayerVersionsCommand({ LayerName: 'persisted' }))).LayerVersions?.map((v) => v.Version)).toEqual([1]);
        expect((await publish(s.client, 'persisted', zip)).Version).toBe(3);
        const config = await s.client.send(new GetFunctionConfigurationCommand({ FunctionName: fn }));
        expect(config.Layers).toEqual([{ Arn: v1.LayerVersionArn, CodeSize: zip.length }]);
        const dirs = s.laminar.registry.resolve(fn, undefined).layerDirs;
        expect(dirs).toHaveLength(1);
        expect(existsSync(dirs[0] as string)).toBe(true);
      } finally {
        await s.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
