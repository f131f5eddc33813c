/**
 * The control plane refuses every wrongly typed or out-of-range member with AWS's error and
 * changes nothing. The field lists below are written from the AWS model, independently of the
 * schemas they test, so a member a schema forgets fails here.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLaminar, zipFixture, type Harness } from '../helpers/laminar.js';

const run = promisify(execFile);

type Kind = 'int' | 'num' | 'str' | 'bool' | 'struct' | 'map' | 'list';

/** Values of every other JSON type than the member's. */
const WRONG: Record<Kind, unknown[]> = {
  int: ['abc', {}, [], true, 1.5],
  num: ['abc', {}, [], true],
  str: [123, {}, [], true],
  bool: ['true', 1, {}, []],
  struct: ['x', 5, [], true],
  map: ['x', 5, [], true],
  list: ['x86_64', 5, {}, true],
};

/** Member path → kind, from the AWS model of each operation. */
const CONFIGURATION: Record<string, Kind> = {
  Role: 'str',
  Handler: 'str',
  Description: 'str',
  Timeout: 'int',
  MemorySize: 'int',
  Runtime: 'str',
  Environment: 'struct',
  'Environment.Variables': 'map',
  'Environment.Variables.KEY': 'str',
  VpcConfig: 'struct',
  'VpcConfig.SubnetIds': 'list',
  'VpcConfig.SecurityGroupIds': 'list',
  'VpcConfig.Ipv6AllowedForDualStack': 'bool',
  DeadLetterConfig: 'struct',
  'DeadLetterConfig.TargetArn': 'str',
  KMSKeyArn: 'str',
  TracingConfig: 'struct',
  'TracingConfig.Mode': 'str',
  Layers: 'list',
  FileSystemConfigs: 'list',
  ImageConfig: 'struct',
  'ImageConfig.Command': 'list',
  'ImageConfig.EntryPoint': 'list',
  'ImageConfig.WorkingDirectory': 'str',
  EphemeralStorage: 'struct',
  'EphemeralStorage.Size': 'int',
  SnapStart: 'struct',
  'SnapStart.ApplyOn': 'str',
  LoggingConfig: 'struct',
  'LoggingConfig.LogFormat': 'str',
  'LoggingConfig.ApplicationLogLevel': 'str',
  'LoggingConfig.SystemLogLevel': 'str',
  'LoggingConfig.LogGroup': 'str',
};

interface Operation {
  name: string;
  method: string;
  path: string;
  /** A valid body the wrong values are put into, one member at a time. */
  base: () => Record<string, unknown>;
  members: Record<string, Kind>;
}

let zip = '';
const OPS: Operation[] = [
  {
    name: 'CreateFunction',
    method: 'POST',
    path: '/2015-03-31/functions',
    base: () => ({ FunctionName: 'bad-input', Handler: 'index.handler', Runtime: 'nodejs20.x', Code: { ZipFile: zip } }),
    members: {
      FunctionName: 'str',
      Code: 'struct',
      'Code.ZipFile': 'str',
      'Code.S3Bucket': 'str',
      'Code.S3Key': 'str',
      'Code.S3ObjectVersion': 'str',
      'Code.ImageUri': 'str',
      Publish: 'bool',
      PackageType: 'str',
      Tags: 'map',
      'Tags.team': 'str',
      Architectures: 'list',
      CodeSigningConfigArn: 'str',
      ...CONFIGURATION,
    },
  },
  {
    name: 'UpdateFunctionConfiguration',
    method: 'PUT',
    path: '/2015-03-31/functions/target/configuration',
    base: () => ({}),
    members: { ...CONFIGURATION, RevisionId: 'str' },
  },
  {
    name: 'UpdateFunctionCode',
    method: 'PUT',
    path: '/2015-03-31/functions/target/code',
    base: () => ({ ZipFile: zip }),
    members: {
      ZipFile: 'str',
      S3Bucket: 'str',
      S3Key: 'str',
      S3ObjectVersion: 'str',
      ImageUri: 'str',
      Publish: 'bool',
      DryRun: 'bool',
      RevisionId: 'str',
      Architectures: 'list',
    },
  },
  {
    name: 'PublishVersion',
    method: 'POST',
    path: '/2015-03-31/functions/target/versions',
    base: () => ({}),
    members: { CodeSha256: 'str', Description: 'str', RevisionId: 'str' },
  },
  {
    name: 'CreateAlias',
    method: 'POST',
    path: '/2015-03-31/functions/target/aliases',
    base: () => ({ Name: 'fresh', FunctionVersion: '1' }),
    members: {
      Name: 'str',
      FunctionVersion: 'str',
      Description: 'str',
      RoutingConfig: 'struct',
      'RoutingConfig.AdditionalVersionWeights': 'map',
      'RoutingConfig.AdditionalVersionWeights.1': 'num',
    },
  },
  {
    name: 'UpdateAlias',
    method: 'PUT',
    path: '/2015-03-31/functions/target/aliases/live',
    base: () => ({}),
    members: {
      FunctionVersion: 'str',
      Description: 'str',
      RevisionId: 'str',
      RoutingConfig: 'struct',
      'RoutingConfig.AdditionalVersionWeights': 'map',
      'RoutingConfig.AdditionalVersionWeights.1': 'num',
    },
  },
  {
    name: 'PutFunctionConcurrency',
    method: 'PUT',
    path: '/2017-10-31/functions/target/concurrency',
    base: () => ({ ReservedConcurrentExecutions: 5 }),
    members: { ReservedConcurrentExecutions: 'int' },
  },
  ...(['PUT', 'POST'] as const).map((method) => ({
    name: method === 'PUT' ? 'PutFunctionEventInvokeConfig' : 'UpdateFunctionEventInvokeConfig',
    method,
    path: '/2019-09-25/functions/target/event-invoke-config',
    base: () => ({ MaximumRetryAttempts: 1 }),
    members: {
      MaximumRetryAttempts: 'int' as const,
      MaximumEventAgeInSeconds: 'int' as const,
      DestinationConfig: 'struct' as const,
      'DestinationConfig.OnSuccess': 'struct' as const,
      'DestinationConfig.OnSuccess.Destination': 'str' as const,
      'DestinationConfig.OnFailure': 'struct' as const,
      'DestinationConfig.OnFailure.Destination': 'str' as const,
    },
  })),
  {
    name: 'PutProvisionedConcurrencyConfig',
    method: 'PUT',
    path: '/2019-09-30/functions/target/provisioned-concurrency?Qualifier=live',
    base: () => ({ ProvisionedConcurrentExecutions: 1 }),
    members: { ProvisionedConcurrentExecutions: 'int' },
  },
];

/** Sets `a.b.c` in a copy of `body`, creating the structures on the way. */
function withMember(body: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(body);
  const parts = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const p of parts.slice(0, -1)) {
    const next = at[p];
    at[p] = typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...next } : {};
    at = at[p] as Record<string, unknown>;
  }
  at[parts[parts.length - 1] as string] = value;
  return copy;
}

let h: Harness;

async function send(method: string, path: string, body?: unknown): Promise<{ status: number; type: string | null; message: string }> {
  const res = await fetch(h.url + path, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  const parsed = text ? (JSON.parse(text) as { message?: string }) : {};
  return { status: res.status, type: res.headers.get('x-amzn-errortype'), message: parsed.message ?? '' };
}

/** Everything the account holds, read back through the API. */
async function account(): Promise<unknown> {
  const read = async (path: string) => {
    const res = await fetch(h.url + path);
    return { status: res.status, body: await res.text() };
  };
  return {
    functions: await read('/2015-03-31/functions?FunctionVersion=ALL'),
    target: await read('/2015-03-31/functions/target'),
    versions: await read('/2015-03-31/functions/target/versions'),
    aliases: await read('/2015-03-31/functions/target/aliases'),
    concurrency: await read('/2019-09-30/functions/target/concurrency'),
    provisioned: await read('/2019-09-30/functions/target/provisioned-concurrency?List=ALL'),
    eventInvokeConfigs: await read('/2019-09-25/functions/target/event-invoke-config/list'),
    settings: await read('/2016-08-19/account-settings'),
  };
}

beforeAll(async () => {
  h = await startLaminar();
  zip = (await zipFixture('echo')).toString('base64');
  const created = await send('POST', '/2015-03-31/functions', { FunctionName: 'target', Handler: 'index.handler', Runtime: 'nodejs20.x', Code: { ZipFile: zip } });
  expect(created.status).toBe(201);
  for (let i = 0; i < 200; i++) {
    const res = await fetch(`${h.url}/2015-03-31/functions/target/configuration`);
    if (((await res.json()) as { State: string }).State === 'Active') break;
    await new Promise((r) => setTimeout(r, 10));
  }
  expect((await send('POST', '/2015-03-31/functions/target/versions', {})).status).toBe(201);
  expect((await send('POST', '/2015-03-31/functions/target/aliases', { Name: 'live', FunctionVersion: '1' })).status).toBe(201);
});
afterAll(async () => h.close());

describe('wrong JSON types', () => {
  it('every member of every operation: 400 SerializationException naming the member, and nothing changes', async () => {
    const before = await account();
    const failures: string[] = [];
    let cases = 0;
    for (const op of OPS) {
      for (const [member, kind] of Object.entries(op.members)) {
        for (const value of WRONG[kind]) {
          cases++;
          const res = await send(op.method, op.path, withMember(op.base(), member, value));
          const named = res.message.includes(`'${member}'`);
          if (res.status !== 400 || res.type !== 'SerializationException' || !named) {
            failures.push(`${op.name} ${member}=${JSON.stringify(value)} → ${res.status} ${res.type}: ${res.message}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(cases).toBeGreaterThan(400);
    expect(await account()).toEqual(before);
  });

  it('a body that is not a JSON object is refused', async () => {
    for (const body of [[1], 'text', 5]) {
      const res = await send('PUT', '/2015-03-31/functions/target/configuration', body);
      expect(res).toMatchObject({ status: 400, type: 'SerializationException' });
    }
  });

  it('query members: MaxItems must be a number', async () => {
    for (const path of ['/2015-03-31/functions', '/2015-03-31/functions/target/versions', '/2015-03-31/functions/target/aliases']) {
      const res = await send('GET', `${path}?MaxItems=abc`);
      expect(res).toMatchObject({ status: 400, type: 'SerializationException' });
      expect(res.message).toContain("'MaxItems'");
    }
  });

  it('explicit null reads as absent; unknown members are ignored and never stored', async () => {
    const res = await fetch(`${h.url}/2015-03-31/functions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        FunctionName: 'nulls-and-extras',
        Handler: 'index.handler',
        Runtime: 'nodejs20.x',
        Code: { ZipFile: zip, Extra: 1 },
        MemorySize: null,
        Timeout: null,
        Surprise: { nested: true },
        Environment: { Variables: { AB: '1' }, Other: 'x' },
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const got = (await (await fetch(`${h.url}/2015-03-31/functions/nulls-and-extras`)).json()) as { Configuration: Record<string, unknown> };
    expect(got.Configuration.MemorySize).toBe(128);
    expect(got.Configuration.Timeout).toBe(3);
    expect(got.Configuration.Environment).toEqual({ Variables: { AB: '1' } });
    expect(JSON.stringify(got)).not.toMatch(/Surprise|Extra|Other/);
    expect((await send('DELETE', '/2015-03-31/functions/nulls-and-extras')).status).toBe(204);
  });
});

/** [operation, method, path, body, error type, exact message] */
type Refusal = [string, string, string, unknown, string, string];
const v1 = (value: string, field: string, constraint: string) =>
  `1 validation error detected: Value ${value === 'null' ? 'null' : `'${value}'`} at '${field}' failed to satisfy constraint: ${constraint}`;
const LE = (n: number) => `Member must have value less than or equal to ${n}`;
const GE = (n: number) => `Member must have value greater than or equal to ${n}`;
const LEN_LE = (n: number) => `Member must have length less than or equal to ${n}`;

describe('constraints, in AWS words', () => {
  const create = (extra: Record<string, unknown>) => ({ FunctionName: 'bad-input', Handler: 'index.handler', Runtime: 'nodejs20.x', Code: { ZipFile: zip }, ...extra });
  const F = '/2015-03-31/functions';
  const cases = (): Refusal[] => [
    ['CreateFunction', 'POST', F, create({ MemorySize: 127 }), 'ValidationException', v1('127', 'memorySize', GE(128))],
    ['CreateFunction', 'POST', F, create({ MemorySize: 10241 }), 'ValidationException', v1('10241', 'memorySize', LE(10240))],
    ['CreateFunction', 'POST', F, create({ Timeout: 0 }), 'ValidationException', v1('0', 'timeout', GE(1))],
    ['CreateFunction', 'POST', F, create({ Timeout: 901 }), 'ValidationException', v1('901', 'timeout', LE(900))],
    ['CreateFunction', 'POST', F, create({ EphemeralStorage: { Size: 511 } }), 'ValidationException', v1('511', 'ephemeralStorage.size', GE(512))],
    ['CreateFunction', 'POST', F, create({ Handler: 'a b' }), 'ValidationException', v1('a b', 'handler', 'Member must satisfy regular expression pattern: [^\\s]+')],
    ['CreateFunction', 'POST', F, create({ Handler: 'h'.repeat(129) }), 'ValidationException', v1('h'.repeat(129), 'handler', LEN_LE(128))],
    ['CreateFunction', 'POST', F, create({ Description: 'd'.repeat(257) }), 'ValidationException', v1('d'.repeat(257), 'description', LEN_LE(256))],
    ['CreateFunction', 'POST', F, create({ TracingConfig: { Mode: 'On' } }), 'ValidationException', v1('On', 'tracingConfig.mode', 'Member must satisfy enum value set: [Active, PassThrough]')],
    ['CreateFunction', 'POST', F, create({ LoggingConfig: { LogFormat: 'XML' } }), 'ValidationException', v1('XML', 'loggingConfig.logFormat', 'Member must satisfy enum value set: [JSON, Text]')],
    ['CreateFunction', 'POST', F, create({ PackageType: 'Jar' }), 'ValidationException', v1('Jar', 'packageType', 'Member must satisfy enum value set: [Zip, Image]')],
    ['CreateFunction', 'POST', F, create({ Architectures: ['x86_64', 'arm64'] }), 'ValidationException', v1('[x86_64, arm64]', 'architectures', LEN_LE(1))],
    [
      'CreateFunction', 'POST', F, create({ Architectures: ['X86_64'] }), 'ValidationException',
      v1('[X86_64]', 'architectures', 'Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]'),
    ],
    [
      'CreateFunction', 'POST', F, create({ Role: 'r1' }), 'ValidationException',
      v1('r1', 'role', 'Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+'),
    ],
    ['CreateFunction', 'POST', F, create({ FunctionName: 'a'.repeat(65) }), 'InvalidParameterValueException', v1('a'.repeat(65), 'functionName', LEN_LE(64))],
    [
      'CreateFunction', 'POST', F, create({ FunctionName: 'invalid:function:name' }), 'ValidationException',
      v1(
        'invalid:function:name',
        'functionName',
        'Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?',
      ),
    ],
    [
      'CreateFunction', 'POST', F, create({ FunctionName: `arn:aws:lambda:us-east-1:000000000000:function:${'a'.repeat(94)}` }), 'ValidationException',
      v1(`arn:aws:lambda:us-east-1:000000000000:function:${'a'.repeat(94)}`, 'functionName', LEN_LE(140)),
    ],
    [
      'CreateFunction', 'POST', F, create({ FunctionName: 'arn:aws:lambda:ap-southeast-1:000000000000:function:elsewhere' }), 'ResourceNotFoundException',
      "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')",
    ],
    [
      'CreateFunction', 'POST', F, create({ Runtime: 'non-existent-runtime' }), 'InvalidParameterValueException',
      "Value non-existent-runtime at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2] or be a valid ARN",
    ],
    [
      'CreateFunction', 'POST', F, create({ Runtime: 'nodejs12.x' }), 'InvalidParameterValueException',
      'The runtime parameter of nodejs12.x is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions.',
    ],
    ['CreateFunction', 'POST', F, { Handler: 'index.handler', Code: { ZipFile: zip } }, 'ValidationException', v1('null', 'functionName', 'Member must not be null')],
    ['CreateFunction', 'POST', F, { FunctionName: 'no-code', Handler: 'index.handler' }, 'ValidationException', v1('null', 'code', 'Member must not be null')],
    [
      'CreateFunction', 'POST', F, create({ Environment: { Variables: { '1BAD': 'x' } } }), 'ValidationException',
      v1('{1BAD=x}', 'environment.variables', 'Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]'),
    ],
    [
      'CreateFunction', 'POST', F, create({ MemorySize: 64, Timeout: 0 }), 'ValidationException',
      `2 validation errors detected: Value '0' at 'timeout' failed to satisfy constraint: ${GE(1)}; Value '64' at 'memorySize' failed to satisfy constraint: ${GE(128)}`,
    ],
    ['UpdateFunctionConfiguration', 'PUT', `${F}/target/configuration`, { MemorySize: 10241 }, 'ValidationException', v1('10241', 'memorySize', LE(10240))],
    ['UpdateFunctionConfiguration', 'PUT', `${F}/target/configuration`, { EphemeralStorage: { Size: 10241 } }, 'ValidationException', v1('10241', 'ephemeralStorage.size', LE(10240))],
    [
      'UpdateFunctionCode', 'PUT', `${F}/target/code`, { ZipFile: zip, Architectures: ['sparc'] }, 'ValidationException',
      v1('[sparc]', 'architectures', 'Member must satisfy constraint: [Member must satisfy enum value set: [x86_64, arm64], Member must not be null]'),
    ],
    ['PublishVersion', 'POST', `${F}/target/versions`, { Description: 'd'.repeat(257) }, 'ValidationException', v1('d'.repeat(257), 'description', LEN_LE(256))],
    ['CreateAlias', 'POST', `${F}/target/aliases`, { Name: '2024', FunctionVersion: '1' }, 'ValidationException', v1('2024', 'name', 'Member must satisfy regular expression pattern: (?!^[0-9]+$)([a-zA-Z0-9-_]+)')],
    ['CreateAlias', 'POST', `${F}/target/aliases`, { Name: 'x', FunctionVersion: 'one' }, 'ValidationException', v1('one', 'functionVersion', 'Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)')],
    ['CreateAlias', 'POST', `${F}/target/aliases`, { FunctionVersion: '1' }, 'ValidationException', v1('null', 'name', 'Member must not be null')],
    ['UpdateAlias', 'PUT', `${F}/target/aliases/live`, { FunctionVersion: 'x' }, 'ValidationException', v1('x', 'functionVersion', 'Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)')],
    ['PutFunctionConcurrency', 'PUT', '/2017-10-31/functions/target/concurrency', { ReservedConcurrentExecutions: -1 }, 'ValidationException', v1('-1', 'reservedConcurrentExecutions', GE(0))],
    ['PutFunctionConcurrency', 'PUT', '/2017-10-31/functions/target/concurrency', {}, 'ValidationException', v1('null', 'reservedConcurrentExecutions', 'Member must not be null')],
    [
      'PutProvisionedConcurrencyConfig', 'PUT', '/2019-09-30/functions/target/provisioned-concurrency?Qualifier=live', { ProvisionedConcurrentExecutions: 0 },
      'ValidationException', v1('0', 'provisionedConcurrentExecutions', GE(1)),
    ],
    ['ListFunctions', 'GET', `${F}?MaxItems=0`, undefined, 'ValidationException', v1('0', 'maxItems', GE(1))],
    ['ListFunctions', 'GET', `${F}?MaxItems=10001`, undefined, 'ValidationException', v1('10001', 'maxItems', LE(10000))],
    ['ListFunctions', 'GET', `${F}?FunctionVersion=SOME`, undefined, 'ValidationException', v1('SOME', 'functionVersion', 'Member must satisfy enum value set: [ALL]')],
    ['ListVersionsByFunction', 'GET', `${F}/target/versions?MaxItems=0`, undefined, 'ValidationException', v1('0', 'maxItems', GE(1))],
    ['ListAliases', 'GET', `${F}/target/aliases?FunctionVersion=abc`, undefined, 'ValidationException', v1('abc', 'functionVersion', 'Member must satisfy regular expression pattern: (\\$LATEST|[0-9]+)')],
  ];

  it('each refusal has AWS type and wording, and changes nothing', async () => {
    const before = await account();
    const failures: string[] = [];
    for (const [op, method, path, body, type, message] of cases()) {
      const res = await send(method, path, body);
      const status = type === 'ResourceNotFoundException' ? 404 : 400;
      if (res.status !== status || res.type !== type || res.message !== message) {
        failures.push(`${op} ${JSON.stringify(body)?.slice(0, 120)}\n  want ${status} ${type}: ${message}\n  got  ${res.status} ${res.type}: ${res.message}`);
      }
    }
    expect(failures.join('\n')).toBe('');
    expect(await account()).toEqual(before);
  });
});

const ID = { ServiceNamespace: 'lambda', ResourceId: 'function:target:live', ScalableDimension: 'lambda:function:ProvisionedConcurrency' };
const IDK: Record<string, Kind> = { ServiceNamespace: 'str', ResourceId: 'str', ScalableDimension: 'str' };
const FILTERS: Record<string, Kind> = { ServiceNamespace: 'str', ScalableDimension: 'str', NextToken: 'str', MaxResults: 'int' };
const TRACKING = 'TargetTrackingScalingPolicyConfiguration';
const ARN = 'arn:aws:application-autoscaling:us-east-1:000000000000:scalable-target/x';

/** Application Auto Scaling actions: [action, valid body, member → kind], from the AWS model. */
const SCALING: [string, Record<string, unknown>, Record<string, Kind>][] = [
  [
    'RegisterScalableTarget',
    { ...ID, MinCapacity: 1, MaxCapacity: 2 },
    {
      ...IDK,
      MinCapacity: 'int',
      MaxCapacity: 'int',
      RoleARN: 'str',
      SuspendedState: 'struct',
      'SuspendedState.DynamicScalingInSuspended': 'bool',
      'SuspendedState.DynamicScalingOutSuspended': 'bool',
      'SuspendedState.ScheduledScalingSuspended': 'bool',
      Tags: 'map',
      'Tags.team': 'str',
    },
  ],
  ['DeregisterScalableTarget', { ...ID }, IDK],
  ['DescribeScalableTargets', { ServiceNamespace: 'lambda' }, { ...FILTERS, ResourceIds: 'list' }],
  [
    'PutScalingPolicy',
    { ...ID, PolicyName: 'p', PolicyType: 'TargetTrackingScaling', [TRACKING]: { TargetValue: 0.7 } },
    {
      ...IDK,
      PolicyName: 'str',
      PolicyType: 'str',
      [TRACKING]: 'struct',
      [`${TRACKING}.TargetValue`]: 'num',
      [`${TRACKING}.ScaleInCooldown`]: 'int',
      [`${TRACKING}.ScaleOutCooldown`]: 'int',
      [`${TRACKING}.DisableScaleIn`]: 'bool',
      [`${TRACKING}.PredefinedMetricSpecification`]: 'struct',
      [`${TRACKING}.PredefinedMetricSpecification.PredefinedMetricType`]: 'str',
      [`${TRACKING}.PredefinedMetricSpecification.ResourceLabel`]: 'str',
      [`${TRACKING}.CustomizedMetricSpecification`]: 'struct',
      [`${TRACKING}.CustomizedMetricSpecification.MetricName`]: 'str',
      [`${TRACKING}.CustomizedMetricSpecification.Dimensions`]: 'list',
      StepScalingPolicyConfiguration: 'struct',
      LaminarKnativeConfiguration: 'struct',
      'LaminarKnativeConfiguration.StableWindowSeconds': 'num',
    },
  ],
  ['DescribeScalingPolicies', { ServiceNamespace: 'lambda' }, { ...FILTERS, PolicyNames: 'list', ResourceId: 'str' }],
  ['DeleteScalingPolicy', { ...ID, PolicyName: 'p' }, { ...IDK, PolicyName: 'str' }],
  ['DescribeScalingActivities', { ServiceNamespace: 'lambda' }, { ...FILTERS, ResourceId: 'str', IncludeNotScaledActivities: 'bool' }],
  [
    'PutScheduledAction',
    { ...ID, ScheduledActionName: 's', Schedule: 'rate(1 hour)' },
    {
      ...IDK,
      ScheduledActionName: 'str',
      Schedule: 'str',
      Timezone: 'str',
      ScalableTargetAction: 'struct',
      'ScalableTargetAction.MinCapacity': 'int',
      'ScalableTargetAction.MaxCapacity': 'int',
    },
  ],
  ['DescribeScheduledActions', { ServiceNamespace: 'lambda' }, { ...FILTERS, ScheduledActionNames: 'list', ResourceId: 'str' }],
  ['DeleteScheduledAction', { ...ID, ScheduledActionName: 's' }, { ...IDK, ScheduledActionName: 'str' }],
  ['ListTagsForResource', { ResourceARN: ARN }, { ResourceARN: 'str' }],
  ['TagResource', { ResourceARN: ARN, Tags: { a: 'b' } }, { ResourceARN: 'str', Tags: 'map', 'Tags.a': 'str' }],
  ['UntagResource', { ResourceARN: ARN, TagKeys: ['a'] }, { ResourceARN: 'str', TagKeys: 'list' }],
];

async function scaling(action: string, body: unknown): Promise<{ status: number; type: string | null; message: string; body: string }> {
  const res = await fetch(`${h.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AnyScaleFrontendService.${action}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('x-amzn-errortype'), message: (JSON.parse(text) as { message?: string }).message ?? '', body: text };
}

describe('Application Auto Scaling actions', () => {
  it('every member of every action: wrong JSON types are a SerializationException naming the member, and nothing changes', async () => {
    expect((await scaling('RegisterScalableTarget', { ...ID, MinCapacity: 0, MaxCapacity: 3 })).status).toBe(200);
    const state = async () => ({
      targets: (await scaling('DescribeScalableTargets', { ServiceNamespace: 'lambda' })).body,
      policies: (await scaling('DescribeScalingPolicies', { ServiceNamespace: 'lambda' })).body,
      actions: (await scaling('DescribeScheduledActions', { ServiceNamespace: 'lambda' })).body,
    });
    const before = await state();
    const failures: string[] = [];
    for (const [action, base, members] of SCALING) {
      for (const [member, kind] of Object.entries(members)) {
        for (const value of WRONG[kind]) {
          const res = await scaling(action, withMember(base, member, value));
          if (res.status !== 400 || res.type !== 'SerializationException' || !res.message.includes(`'${member}'`)) {
            failures.push(`${action} ${member}=${JSON.stringify(value)} → ${res.status} ${res.type}: ${res.message}`);
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(await state()).toEqual(before);
  });

  it('constraints in AWS words', async () => {
    const res = await scaling('RegisterScalableTarget', { ...ID, MinCapacity: -1 });
    expect(res).toMatchObject({
      status: 400,
      type: 'ValidationException',
      message: "1 validation error detected: Value '-1' at 'minCapacity' failed to satisfy constraint: Member must have value greater than or equal to 0",
    });
    const knative = await scaling('PutScalingPolicy', {
      ...ID,
      PolicyName: 'k',
      [TRACKING]: { TargetValue: 0.5 },
      LaminarKnativeConfiguration: { MaxScaleUpRate: 1 },
    });
    expect(knative.message).toBe(
      "1 validation error detected: Value '1' at 'laminarKnativeConfiguration.maxScaleUpRate' failed to satisfy constraint: Member must have value greater than or equal to 1.01",
    );
  });
});

describe('the account keeps working after bad input', () => {
  it('ListFunctions through the SDK and the AWS CLI still answers', async () => {
    const listed = await fetch(`${h.url}/2015-03-31/functions`);
    expect(listed.status).toBe(200);
    // In CI the AWS CLI is installed by .ci/run.
    let hasCli = true;
    try {
      await run('aws', ['--version']);
    } catch {
      hasCli = false;
    }
    if (!hasCli && !process.env.CI) return;
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
    const out = await run('aws', ['lambda', 'list-functions', '--endpoint-url', h.url], { env });
    const names = (JSON.parse(out.stdout) as { Functions: { FunctionName: string }[] }).Functions.map((f) => f.FunctionName);
    expect(names).toContain('target');
  });
});
