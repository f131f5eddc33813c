/**
 * The request shapes of Lambda's control plane, from the AWS model: member types, lengths,
 * ranges, patterns and enums. Routes attach them as Fastify schemas; `shape.ts` checks them and
 * words the failures as AWS does. What a value means (is the runtime one Laminar runs, is the
 * version published, does the function exist) is the registry's business, not the shape's.
 */
import { FUNCTION_NAME_CREATE_PATTERN, QUALIFIER_PATTERN, TAGGABLE_RESOURCE_PATTERN } from '../core/arn.js';
import { bool, int, list, map, str, struct, type Shape } from '../core/shape.js';
import { DESTINATION_ARN_PATTERN } from './destinations.js';
import { FUNCTION_URL_QUALIFIER_PATTERN } from './function-urls.js';
import { FunctionLayersShape } from './layer-shapes.js';

// ---- members shared by several operations ----

const ROLE_PATTERN = 'arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+';
const ARCHITECTURES = ['x86_64', 'arm64'] as const;
const VERSION_PATTERN = '(\\$LATEST|[0-9]+)';
const ALIAS_PATTERN = '(?!^[0-9]+$)([a-zA-Z0-9-_]+)';

const role = str({ pattern: ROLE_PATTERN });
const handler = str({ max: 128, pattern: '[^\\s]+' });
const description = str({ min: 0, max: 256 });
const timeout = int({ min: 1, max: 900 });
const memorySize = int({ min: 128, max: 10240 });
const runtime = str();
const revisionId = str();
const architectures = list(str({ enum: ARCHITECTURES }), {
  min: 1,
  max: 1,
  awsItems: `Member must satisfy constraint: [Member must satisfy enum value set: [${ARCHITECTURES.join(', ')}], Member must not be null]`,
});
const environment = struct({
  Variables: map(str(), str({ pattern: '[a-zA-Z]([a-zA-Z0-9_])+' })),
});
const ephemeralStorage = struct({ Size: int({ min: 512, max: 10240 }) }, ['Size']);
const tracingConfig = struct({ Mode: str({ enum: ['Active', 'PassThrough'] }) });
const loggingConfig = struct({
  LogFormat: str({ enum: ['JSON', 'Text'] }),
  ApplicationLogLevel: str({ enum: ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] }),
  SystemLogLevel: str({ enum: ['DEBUG', 'INFO', 'WARN'] }),
  LogGroup: str({ min: 1, max: 512, pattern: '[\\.\\-_/#A-Za-z0-9]+' }),
});
const vpcConfig = struct({
  SubnetIds: list(str({ min: 0, max: 1024, pattern: 'subnet-[0-9a-z]*' }), { max: 16 }),
  SecurityGroupIds: list(str({ min: 0, max: 1024, pattern: 'sg-[0-9a-zA-Z]*' }), { max: 5 }),
  Ipv6AllowedForDualStack: bool,
});
const deadLetterConfig = struct({ TargetArn: str() });
const layers = FunctionLayersShape;
const fileSystemConfigs = list(struct({ Arn: str({ max: 200 }), LocalMountPath: str({ max: 160 }) }, ['Arn', 'LocalMountPath']), { max: 1 });
const imageConfig = struct({ EntryPoint: list(str()), Command: list(str()), WorkingDirectory: str({ max: 1000 }) });
const snapStart = struct({ ApplyOn: str({ enum: ['PublishedVersions', 'None'] }) });
const kmsKeyArn = str();
const tags = map(str({ max: 256 }), str({ min: 1, max: 128 }));
/** Base64 text of the zip (the SDK and CLI send blobs so); the route decodes and checks it. */
const zipFile = str();
const routingConfig = struct({
  // Ranges and version keys are checked by the registry, which words them as AWS does.
  AdditionalVersionWeights: map({ type: 'number' }),
});

/** Members CreateFunction and UpdateFunctionConfiguration share. */
const configuration = {
  Role: role,
  Handler: handler,
  Description: description,
  Timeout: timeout,
  MemorySize: memorySize,
  Runtime: runtime,
  Environment: environment,
  VpcConfig: vpcConfig,
  DeadLetterConfig: deadLetterConfig,
  KMSKeyArn: kmsKeyArn,
  TracingConfig: tracingConfig,
  Layers: layers,
  FileSystemConfigs: fileSystemConfigs,
  ImageConfig: imageConfig,
  EphemeralStorage: ephemeralStorage,
  SnapStart: snapStart,
  LoggingConfig: loggingConfig,
};

const maxItems = int({ min: 1, max: 10000 });

/** Where code comes from: CreateFunction's `Code` and UpdateFunctionCode's body share these members. */
const codeSource = {
  ZipFile: zipFile,
  S3Bucket: str({ min: 3, max: 63 }),
  S3Key: str({ min: 1, max: 1024 }),
  S3ObjectVersion: str({ min: 1, max: 1024 }),
  ImageUri: str(),
  SourceKMSKeyArn: str(),
};

// ---- operations ----

export const CreateFunctionBody = struct(
  {
    FunctionName: str({ min: 1, max: 140, pattern: FUNCTION_NAME_CREATE_PATTERN }),
    Code: struct(codeSource),
    Publish: bool,
    PackageType: str({ enum: ['Zip', 'Image'] }),
    Tags: tags,
    CodeSigningConfigArn: str({ max: 200 }),
    Architectures: architectures,
    ...configuration,
  },
  ['FunctionName', 'Code'],
);

export const UpdateFunctionConfigurationBody = struct({ ...configuration, RevisionId: revisionId });

/**
 * A folder's `laminar.json`: CreateFunction's configuration members, and Laminar's own
 * `LaminarLayers` (folders, relative to it, to publish as layers that the function uses in order)
 * and `LaminarSchedule` (a `rate()` or `cron()` expression that runs the function, as an
 * EventBridge rule named after it).
 */
export const FolderSettingsShape = struct({
  ...configuration,
  LaminarLayers: list(str({ min: 1 }), { max: 5 }),
  LaminarSchedule: str({ min: 1, max: 256 }),
});

export const UpdateFunctionCodeBody = struct({
  ...codeSource,
  Publish: bool,
  DryRun: bool,
  RevisionId: revisionId,
  Architectures: architectures,
});

export const PublishVersionBody = struct({ CodeSha256: str(), Description: description, RevisionId: revisionId });

export const CreateAliasBody = struct(
  {
    Name: str({ min: 1, max: 128, pattern: ALIAS_PATTERN }),
    FunctionVersion: str({ min: 1, max: 1024, pattern: VERSION_PATTERN }),
    Description: description,
    RoutingConfig: routingConfig,
  },
  ['Name', 'FunctionVersion'],
);

export const UpdateAliasBody = struct({
  FunctionVersion: str({ min: 1, max: 1024, pattern: VERSION_PATTERN }),
  Description: description,
  RoutingConfig: routingConfig,
  RevisionId: revisionId,
});

export const PutFunctionConcurrencyBody = struct({ ReservedConcurrentExecutions: int({ min: 0 }) }, ['ReservedConcurrentExecutions']);

export const PutProvisionedConcurrencyConfigBody = struct(
  { ProvisionedConcurrentExecutions: int({ min: 1 }) },
  ['ProvisionedConcurrentExecutions'],
);

export const TagResourceBody = struct({ Tags: tags }, ['Tags']);

const destination = struct({ Destination: str({ min: 0, max: 350, pattern: DESTINATION_ARN_PATTERN }) });

/** Put and UpdateFunctionEventInvokeConfig share one body. */
export const EventInvokeConfigBody = struct({
  MaximumRetryAttempts: int({ min: 0, max: 2 }),
  MaximumEventAgeInSeconds: int({ min: 60, max: 21600 }),
  DestinationConfig: struct({ OnSuccess: destination, OnFailure: destination }),
});
const headersList = list(str({ min: 0, max: 1024, pattern: '.*' }), { min: 0, max: 100 });
const functionUrlCors = struct({
  AllowCredentials: bool,
  AllowHeaders: headersList,
  AllowMethods: list(str({ min: 0, max: 6, pattern: '.*' }), { min: 0, max: 6 }),
  AllowOrigins: list(str({ min: 1, max: 253, pattern: '.*' }), { min: 0, max: 100 }),
  ExposeHeaders: headersList,
  MaxAge: int({ min: 0, max: 86400 }),
});
const functionUrlMembers = {
  AuthType: str({ enum: ['NONE', 'AWS_IAM'] }),
  Cors: functionUrlCors,
  // In the order AWS lists them in its refusal.
  InvokeMode: str({ enum: ['RESPONSE_STREAM', 'BUFFERED'] }),
};

export const CreateFunctionUrlConfigBody = struct(functionUrlMembers, ['AuthType']);
export const UpdateFunctionUrlConfigBody = struct(functionUrlMembers);

// ---- path parameters ----

/** The ARN in the path of TagResource, UntagResource and ListTags. */
export const TaggableResourceParams = struct(
  { Resource: str({ min: 1, max: 256, pattern: TAGGABLE_RESOURCE_PATTERN }) },
  ['Resource'],
);

// ---- query strings ----

const qualifier = str({ min: 1, max: 128, pattern: QUALIFIER_PATTERN });

/** Query members are text on the wire; `int` members are read from it. Unknown ones are ignored. */
function query(properties: Record<string, Shape>, required: readonly string[] = []): Shape {
  return { type: 'object', properties, ...(required.length > 0 ? { required: [...required] } : {}) };
}

export const ListFunctionsQuery = query({
  FunctionVersion: str({ enum: ['ALL'] }),
  Marker: str(),
  MaxItems: maxItems,
  MasterRegion: str(),
});
export const ListVersionsQuery = query({ Marker: str(), MaxItems: maxItems });
export const ListAliasesQuery = query({
  FunctionVersion: str({ min: 1, max: 1024, pattern: VERSION_PATTERN }),
  Marker: str(),
  MaxItems: maxItems,
});
export const QualifierQuery = query({ Qualifier: qualifier });
export const ProvisionedQuery = query({
  Qualifier: qualifier,
  List: str({ enum: ['ALL'] }),
  Marker: str(),
  MaxItems: int({ min: 1, max: 50 }),
});

export const ListEventInvokeConfigsQuery = query({ Marker: str(), MaxItems: int({ min: 1, max: 50 }) });

/** Laminar's own listing of the failed-event store. */
export const ListFailedEventsQuery = query({ FunctionName: str({ min: 1, max: 170 }), Marker: str(), MaxItems: int({ min: 1, max: 1000 }) }, ['FunctionName']);
/** The URL config operations take an alias name only: `$LATEST` and version numbers are refused. */
export const FunctionUrlQuery = query({ Qualifier: str({ min: 1, max: 128, pattern: FUNCTION_URL_QUALIFIER_PATTERN }) });
export const ListFunctionUrlConfigsQuery = query({ Marker: str(), MaxItems: int({ min: 1, max: 50 }) });

/** `?tagKeys=a&tagKeys=b`; the route reads a single key as a list of one. */
export const UntagResourceQuery = query({ tagKeys: list(str()) }, ['tagKeys']);
