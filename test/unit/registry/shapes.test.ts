import { describe, expect, it } from 'vitest';
import { validationMessage } from '../../../src/core/errors.js';
import { compileShape, type ShapeOutcome } from '../../../src/core/shape.js';
import { CreateAliasBody, CreateFunctionBody, ListFunctionsQuery, UpdateFunctionConfigurationBody } from '../../../src/registry/shapes.js';

const create = compileShape(CreateFunctionBody);
const update = compileShape(UpdateFunctionConfigurationBody);
const alias = compileShape(CreateAliasBody);
const list = compileShape(ListFunctionsQuery, 'querystring');
const base = () => ({ FunctionName: 'f', Handler: 'index.handler', Runtime: 'nodejs20.x', Code: { ZipFile: 'UEs=' } });

function message(out: ShapeOutcome<unknown>): string {
  if (out.ok) return 'ok';
  return out.kind === 'type' ? `type: ${out.message}` : validationMessage(out.violations);
}

describe('request shapes', () => {
  it('collects every broken constraint in one message, in AWS words', () => {
    expect(message(update({ MemorySize: 10241, Timeout: 0, Handler: 'index handler', Description: 'd'.repeat(257) }))).toBe(
      '4 validation errors detected: ' +
        "Value 'index handler' at 'handler' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\s]+; " +
        `Value '${'d'.repeat(257)}' at 'description' failed to satisfy constraint: Member must have length less than or equal to 256; ` +
        "Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
        "Value '10241' at 'memorySize' failed to satisfy constraint: Member must have value less than or equal to 10240",
    );
  });

  it.each([
    [{ MemorySize: 127 }, "Value '127' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"],
    [{ Timeout: 901 }, "Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than or equal to 900"],
    [{ EphemeralStorage: { Size: 511 } }, "Value '511' at 'ephemeralStorage.size' failed to satisfy constraint: Member must have value greater than or equal to 512"],
    [{ EphemeralStorage: {} }, "Value null at 'ephemeralStorage.size' failed to satisfy constraint: Member must not be null"],
    [{ Handler: 'h'.repeat(129) }, `Value '${'h'.repeat(129)}' at 'handler' failed to satisfy constraint: Member must have length less than or equal to 128`],
    [
      { Environment: { Variables: { '1BAD': 'x', GOOD: 'y' } } },
      "Value '{1BAD=x, GOOD=y}' at 'environment.variables' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
    ],
    [
      { VpcConfig: { SubnetIds: ['nope'] } },
      "Value '[nope]' at 'vpcConfig.subnetIds' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 0, Member must satisfy regular expression pattern: subnet-[0-9a-z]*]",
    ],
    [
      { FileSystemConfigs: [{ Arn: 'a' }] },
      "Value null at 'fileSystemConfigs.1.member.localMountPath' failed to satisfy constraint: Member must not be null",
    ],
  ])('%j', (extra, detail) => {
    expect(message(update(extra))).toBe(`1 validation error detected: ${detail}`);
  });

  it('a wrong JSON type fails before any constraint, naming the member by its path', () => {
    expect(message(create({ ...base(), MemorySize: 5, Timeout: 'x' }))).toBe("type: Could not deserialize the request: 'Timeout' must be an integer, not a string.");
    expect(message(create({ ...base(), Architectures: ['x86_64', 7] }))).toBe("type: Could not deserialize the request: 'Architectures[1]' must be a string, not an integer.");
    expect(message(create({ ...base(), Tags: { a: { b: 1 } } }))).toBe("type: Could not deserialize the request: 'Tags.a' must be a string, not a JSON object.");
    expect(message(create('body'))).toBe('type: The request must be a JSON object, not a string.');
  });

  it('renders map values as Java does', () => {
    const out = compileShape({ type: 'object', properties: { W: { type: 'object', additionalProperties: { type: 'number', minimum: 0, maximum: 1 } } } })({ W: { 2: 2 } });
    expect(message(out)).toBe(
      "1 validation error detected: Value '{2=2.0}' at 'w' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]",
    );
  });

  it('reads null as absent and drops members the model does not know', () => {
    const out = create({ ...base(), MemorySize: null, Extra: 1, Environment: { Variables: { AB: 'c' }, Other: true } });
    expect(out).toEqual({ ok: true, value: { ...base(), Environment: { Variables: { AB: 'c' } } } });
  });

  it('reads numbers from query strings, and requires what the model requires', () => {
    expect(list({ MaxItems: '5' })).toEqual({ ok: true, value: { MaxItems: 5 } });
    expect(message(list({ MaxItems: 'five' }))).toBe("type: Could not deserialize the request: 'MaxItems' must be an integer, not a string.");
    expect(message(alias({ Description: 'x' }))).toBe(
      "2 validation errors detected: Value null at 'name' failed to satisfy constraint: Member must not be null; Value null at 'functionVersion' failed to satisfy constraint: Member must not be null",
    );
  });
});
