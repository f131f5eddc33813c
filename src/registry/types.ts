/** The shapes the control plane speaks, as in Lambda's API (field names exactly as AWS spells them). */

export type FunctionState = 'Pending' | 'Active' | 'Inactive' | 'Failed';
export type LastUpdateStatus = 'InProgress' | 'Successful' | 'Failed';

export interface FunctionConfiguration {
  FunctionName: string;
  FunctionArn: string;
  Runtime: string;
  Role: string;
  Handler: string;
  CodeSize: number;
  Description: string;
  Timeout: number;
  MemorySize: number;
  LastModified: string;
  CodeSha256: string;
  Version: string;
  Environment?: { Variables: Record<string, string> };
  TracingConfig: { Mode: 'PassThrough' | 'Active' };
  RevisionId: string;
  State: FunctionState;
  StateReason?: string;
  StateReasonCode?: string;
  LastUpdateStatus: LastUpdateStatus;
  LastUpdateStatusReason?: string;
  LastUpdateStatusReasonCode?: string;
  PackageType: 'Zip';
  Architectures: ['x86_64' | 'arm64'];
  EphemeralStorage: { Size: number };
  LoggingConfig: { LogFormat: 'Text' | 'JSON'; LogGroup: string; ApplicationLogLevel?: string; SystemLogLevel?: string };
  SnapStart: { ApplyOn: 'None'; OptimizationStatus: 'Off' };
  RuntimeVersionConfig?: { RuntimeVersionArn: string };
  DeadLetterConfig?: { TargetArn: string };
  Layers?: { Arn: string; CodeSize: number }[];
}

/** Input of CreateFunction (the fields Laminar honours; others are accepted and ignored). */
export interface CreateFunctionInput {
  FunctionName: string;
  Runtime?: string;
  Role?: string;
  Handler?: string;
  Code: { ZipFile?: Buffer; S3Bucket?: string; S3Key?: string; S3ObjectVersion?: string; ImageUri?: string };
  Description?: string;
  Timeout?: number;
  MemorySize?: number;
  Publish?: boolean;
  Environment?: { Variables?: Record<string, string> };
  PackageType?: string;
  Architectures?: string[];
  EphemeralStorage?: { Size?: number };
  TracingConfig?: { Mode?: string };
  LoggingConfig?: { LogFormat?: string; LogGroup?: string; ApplicationLogLevel?: string; SystemLogLevel?: string };
  DeadLetterConfig?: { TargetArn?: string };
  Tags?: Record<string, string>;
  /** Versioned layer ARNs, in the order they are extracted. */
  Layers?: string[];
}

export interface UpdateFunctionCodeInput {
  ZipFile?: Buffer;
  /** Accepted only to be refused with a clear message: Laminar takes inline zips only. */
  S3Bucket?: string;
  S3Key?: string;
  S3ObjectVersion?: string;
  ImageUri?: string;
  Publish?: boolean;
  DryRun?: boolean;
  RevisionId?: string;
  Architectures?: string[];
}

export interface UpdateFunctionConfigurationInput {
  Role?: string;
  Handler?: string;
  Description?: string;
  Timeout?: number;
  MemorySize?: number;
  Environment?: { Variables?: Record<string, string> };
  Runtime?: string;
  RevisionId?: string;
  EphemeralStorage?: { Size?: number };
  TracingConfig?: { Mode?: string };
  LoggingConfig?: { LogFormat?: string; LogGroup?: string; ApplicationLogLevel?: string; SystemLogLevel?: string };
  DeadLetterConfig?: { TargetArn?: string };
  /** Replaces the function's layers; `[]` removes them all. */
  Layers?: string[];
}

export interface PublishVersionInput {
  CodeSha256?: string;
  Description?: string;
  RevisionId?: string;
}

export interface AliasRoutingConfiguration {
  AdditionalVersionWeights?: Record<string, number>;
}

export interface AliasConfiguration {
  AliasArn: string;
  Name: string;
  FunctionVersion: string;
  Description: string;
  RoutingConfig?: AliasRoutingConfiguration;
  RevisionId: string;
}

export interface CreateAliasInput {
  Name: string;
  FunctionVersion: string;
  Description?: string;
  RoutingConfig?: AliasRoutingConfiguration;
}

export interface UpdateAliasInput {
  FunctionVersion?: string;
  Description?: string;
  RoutingConfig?: AliasRoutingConfiguration;
  RevisionId?: string;
}

export interface GetFunctionOutput {
  Configuration: FunctionConfiguration;
  Code: { RepositoryType: 'S3'; Location: string };
  Tags?: Record<string, string>;
  Concurrency?: { ReservedConcurrentExecutions: number };
}

export interface Page<T> {
  items: T[];
  nextMarker?: string;
}

/**
 * What the scheduler needs to run one invocation: the version that runs (an alias resolved,
 * its weights applied) with its configuration and extracted code.
 */
export interface ResolvedTarget {
  functionName: string;
  /** `$LATEST` or a version number: what X-Amz-Executed-Version reports. */
  version: string;
  /** The qualifier the caller used (alias name, version, `$LATEST`), or undefined for none. */
  qualifier?: string;
  /** The alias name when the caller invoked through one. */
  alias?: string;
  configuration: FunctionConfiguration;
  /** Absolute path of the extracted code (Lambda's /var/task). */
  codeDir: string;
  /** The extracted folders of the version's layers, in the order they are merged into /opt. */
  layerDirs: string[];
  /** The ARN the caller invoked, with the qualifier when one was given (context.invokedFunctionArn). */
  invokedFunctionArn: string;
  /**
   * How the function asked to be isolated, from its `laminar:isolation` tag; undefined when the
   * tag is not set. Tags belong to the function, so every version and alias resolves to it.
   */
  isolation?: Isolation;
}

/** The values of the `laminar:isolation` tag. */
export type Isolation = 'thread' | 'process';

export interface PublishLayerVersionInput {
  Content: { ZipFile?: Buffer; S3Bucket?: string; S3Key?: string; S3ObjectVersion?: string };
  Description?: string;
  CompatibleRuntimes?: string[];
  CompatibleArchitectures?: string[];
  LicenseInfo?: string;
}

/** A layer version as ListLayerVersions and ListLayers show it (no content). */
export interface LayerVersionsListItem {
  LayerVersionArn: string;
  Version: number;
  Description: string;
  CreatedDate: string;
  CompatibleRuntimes?: string[];
  CompatibleArchitectures?: string[];
  LicenseInfo?: string;
}

/** PublishLayerVersion's and GetLayerVersion's answer: the list item plus the layer and its content. */
export interface LayerVersion extends LayerVersionsListItem {
  LayerArn: string;
  Content: { Location: string; CodeSha256: string; CodeSize: number };
}

export interface LayersListItem {
  LayerName: string;
  LayerArn: string;
  LatestMatchingVersion: LayerVersionsListItem;
}

export interface LayerFilter {
  compatibleRuntime?: string;
  compatibleArchitecture?: string;
  marker?: string;
  maxItems?: number;
}

/** One side of a `DestinationConfig`: where records go; no `Destination` means none. */
export interface OnDestination {
  Destination?: string;
}

export interface DestinationConfig {
  OnSuccess: OnDestination;
  OnFailure: OnDestination;
}

/** The body of Put/UpdateFunctionEventInvokeConfig, after its shape has been checked. */
export interface EventInvokeConfigInput {
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  DestinationConfig?: { OnSuccess?: OnDestination; OnFailure?: OnDestination };
}

/** What is stored of an event invoke config: the settings given, destinations normalised. */
export interface StoredEventInvokeConfig {
  MaximumRetryAttempts?: number;
  MaximumEventAgeInSeconds?: number;
  DestinationConfig: DestinationConfig;
}

/** `FunctionEventInvokeConfig` as the API returns it. */
export interface FunctionEventInvokeConfig extends StoredEventInvokeConfig {
  /** Qualified: `…:$LATEST` for the unqualified function. */
  FunctionArn: string;
  /** Epoch seconds (a timestamp member: the SDK reads it as a Date). */
  LastModified: number;
}

/** Who may call a function URL: anyone (`NONE`), or SigV4-signed requests (`AWS_IAM`). */
export type FunctionUrlAuthType = 'NONE' | 'AWS_IAM';
export type FunctionUrlInvokeMode = 'BUFFERED' | 'RESPONSE_STREAM';

/** A function URL's CORS settings, as CreateFunctionUrlConfig takes them. */
export interface FunctionUrlCors {
  AllowCredentials?: boolean;
  AllowHeaders?: string[];
  AllowMethods?: string[];
  AllowOrigins?: string[];
  ExposeHeaders?: string[];
  MaxAge?: number;
}

/** Create/UpdateFunctionUrlConfig's body (`AuthType` is required by Create only). */
export interface FunctionUrlConfigInput {
  AuthType?: FunctionUrlAuthType;
  Cors?: FunctionUrlCors;
  InvokeMode?: FunctionUrlInvokeMode;
}

/**
 * What is stored of a function URL config. `InvokeMode` is kept only once a request set it:
 * AWS echoes it from Create and Update only then, and reports `BUFFERED` from Get and List.
 */
export interface StoredFunctionUrlConfig {
  AuthType: FunctionUrlAuthType;
  Cors?: FunctionUrlCors;
  InvokeMode?: FunctionUrlInvokeMode;
  CreationTime: string;
  LastModifiedTime: string;
}

/** The function URL config as the API answers it. */
export interface FunctionUrlConfig {
  FunctionUrl: string;
  FunctionArn: string;
  AuthType: FunctionUrlAuthType;
  Cors?: FunctionUrlCors;
  CreationTime: string;
  LastModifiedTime?: string;
  InvokeMode?: FunctionUrlInvokeMode;
}
