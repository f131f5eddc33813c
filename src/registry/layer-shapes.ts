/**
 * The request shapes of Lambda's layer operations (the 2018-10-31 API), from the AWS model, and
 * the `Layers` member functions use to reference layer versions. Patterns and enum lists are the
 * ones AWS quotes in its ValidationException messages, which are newer than some published
 * copies of the model.
 */
import { int, list, str, struct, type Shape } from '../core/shape.js';
import { AWS_RUNTIMES } from './validation.js';

/** A layer's name, or its unversioned ARN. */
export const LAYER_NAME_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+';

/** A versioned layer ARN, or an AWS-managed `awslayer` ARN. */
export const LAYER_VERSION_ARN_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+)|(arn:[a-zA-Z0-9-]+:lambda:::awslayer:[a-zA-Z0-9-_]+)';

/** The model's `Runtime` enum: every value a layer may declare itself compatible with. */
export const MODEL_RUNTIMES: readonly string[] = [
  'nodejs', 'nodejs4.3', 'nodejs6.10', 'nodejs8.10', 'nodejs10.x', 'nodejs12.x', 'nodejs14.x', 'nodejs16.x', 'nodejs18.x',
  'nodejs20.x', 'nodejs22.x', 'nodejs24.x', 'nodejs26.x', 'nodejs4.3-edge', 'java8', 'java8.al2', 'java8.al2023', 'java11',
  'java11.al2023', 'java17', 'java17.al2023', 'java21', 'java25', 'python2.7', 'python3.6', 'python3.7', 'python3.8',
  'python3.9', 'python3.10', 'python3.11', 'python3.12', 'python3.13', 'python3.14', 'python3.15', 'dotnetcore1.0',
  'dotnetcore2.0', 'dotnetcore2.1', 'dotnetcore3.1', 'dotnet6', 'dotnet8', 'dotnet10', 'go1.x', 'ruby2.5', 'ruby2.7',
  'ruby3.2', 'ruby3.3', 'ruby3.4', 'ruby4.0', 'provided', 'provided.al2', 'provided.al2023',
];

/** The runtimes ListLayers and ListLayerVersions filter on, in the order AWS prints them when refusing one. */
export const LAYER_FILTER_RUNTIMES: readonly string[] = [
  'ruby3.5', 'ruby2.6', 'dotnetcore1.0', 'python3.7', 'nodejs8.10', 'nasa', 'ruby2.7', 'python2.7-greengrass', 'dotnetcore2.0',
  'python3.8', 'java21', 'dotnet6', 'dotnetcore2.1', 'python3.9', 'java11', 'nodejs6.10', 'provided', 'dotnetcore3.1', 'dotnet8',
  'java25', 'java17', 'nodejs', 'nodejs4.3', 'java8.al2', 'go1.x', 'dotnet10', 'nodejs20.x', 'go1.9', 'byol', 'nodejs10.x',
  'provided.al2023', 'nodejs22.x', 'python3.10', 'java8', 'nodejs12.x', 'python3.11', 'nodejs24.x', 'nodejs8.x', 'python3.12',
  'nodejs14.x', 'nodejs8.9', 'nodejs26.x', 'python3.13', 'python3.14', 'nodejs16.x', 'python3.15', 'provided.al2',
  'nodejs4.3-edge', 'nodejs18.x', 'ruby3.2', 'python3.4', 'ruby3.3', 'ruby3.4', 'ruby2.5', 'python3.6', 'python2.7',
];

const ARCHITECTURES = ['x86_64', 'arm64'] as const;

const layerName = str({ min: 1, max: 140, pattern: LAYER_NAME_PATTERN });
const layerVersionArn = str({ min: 1, max: 2048, pattern: LAYER_VERSION_ARN_PATTERN });

/** CreateFunction's and UpdateFunctionConfiguration's `Layers`; how many is the registry's check (AWS words it so). */
export const FunctionLayersShape: Shape = list(layerVersionArn, {
  awsItems:
    'Member must satisfy constraint: [Member must have length less than or equal to 2048, Member must have length greater than or equal to 1, ' +
    `Member must satisfy regular expression pattern: ${LAYER_VERSION_ARN_PATTERN}, Member must not be null]`,
});

// ---- operations ----

export const PublishLayerVersionBody = struct(
  {
    Description: str({ min: 0, max: 256 }),
    Content: struct({
      S3Bucket: str({ min: 3, max: 63, pattern: '[0-9A-Za-z\\.\\-_]*(?<!\\.)' }),
      S3Key: str({ min: 1, max: 1024 }),
      S3ObjectVersion: str({ min: 1, max: 1024 }),
      /** Base64 text of the zip; the route decodes it. */
      ZipFile: str(),
    }),
    // AWS accepts any runtime of its model here but names only the current ones when refusing.
    CompatibleRuntimes: list(str({ enum: MODEL_RUNTIMES }), {
      max: 15,
      awsItems: `Member must satisfy enum value set: [${AWS_RUNTIMES.join(', ')}]`,
    }),
    LicenseInfo: str({ max: 512 }),
    CompatibleArchitectures: list(str({ enum: ARCHITECTURES }), {
      max: 2,
      awsItems: `Member must satisfy constraint: [Member must satisfy enum value set: [${ARCHITECTURES.join(', ')}], Member must not be null]`,
    }),
  },
  ['Content'],
);

/** Path parameters: the layer's name (or ARN) and, where the path has one, the version number as text. */
export const LayerPathParams: Shape = {
  type: 'object',
  properties: { LayerName: layerName, VersionNumber: str() },
  required: ['LayerName'],
};

const filters = {
  CompatibleRuntime: str({ enum: LAYER_FILTER_RUNTIMES }),
  CompatibleArchitecture: str({ enum: ARCHITECTURES }),
  Marker: str(),
  MaxItems: int({ min: 1, max: 50 }),
};

/** Query members are text on the wire; `int` members are read from it. Unknown ones are ignored. */
export const ListLayersQuery: Shape = { type: 'object', properties: filters };
export const ListLayerVersionsQuery: Shape = { type: 'object', properties: filters };
export const GetLayerVersionByArnQuery: Shape = { type: 'object', properties: { Arn: layerVersionArn }, required: ['Arn'] };
