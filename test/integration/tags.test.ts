/**
 * The tagging API through the AWS SDK: TagResource, UntagResource and ListTags on function ARNs,
 * every refusal in the words AWS answers with (recorded in LocalStack's Lambda API snapshots,
 * TestLambdaTag and TestLambdaTags), tags through a restart, and Laminar's `laminar:isolation` tag.
 */
import {
  CreateFunctionCommand,
  DeleteFunctionCommand,
  GetFunctionCommand,
  ListTagsCommand,
  PublishVersionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  type Runtime,
} from '@aws-sdk/client-lambda';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deployFixture, startLaminar, zipFixture, type Harness } from '../helpers/laminar.js';

let h: Harness;
beforeAll(async () => {
  h = await startLaminar();
});
afterAll(async () => h?.close());

const ARN = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
const RESOURCE_PATTERN =
  'arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:\\d{12}:(function:[a-zA-Z0-9-_]+(:(\\$LATEST|[a-zA-Z0-9-_]+))?|layer:([a-zA-Z0-9-_]+)|code-signing-config:csc-[a-z0-9]{17}|event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|capacity-provider:[a-zA-Z0-9-_]+)';
const invalidArn = (value: string) =>
  `1 validation error detected: Value '${value}' at 'resource' failed to satisfy constraint: Member must satisfy regular expression pattern: ${RESOURCE_PATTERN}`;
const QUALIFIED = 'Tags on function aliases and versions are not supported. Please specify a function ARN.';
const TOO_MANY = 'Number of tags exceeds resource tag limit.';

/** The error an SDK call fails with: name, HTTP status and message. */
async function refusal(p: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error('the call succeeded');
}

const list = async (arn: string, client = h.client) => (await client.send(new ListTagsCommand({ Resource: arn }))).Tags;
const tagsOf = async (name: string, qualifier?: string, client = h.client) =>
  (await client.send(new GetFunctionCommand({ FunctionName: name, ...(qualifier ? { Qualifier: qualifier } : {}) }))).Tags;
const revision = async (name: string) => (await h.client.send(new GetFunctionCommand({ FunctionName: name }))).Configuration?.RevisionId;

describe('lifecycle (TestLambdaTags::test_tag_lifecycle, TestLambdaTag::test_tag_lifecycle)', () => {
  it('tags from CreateFunction, added, overwritten, removed; GetFunction shows them; RevisionId changes with each', async () => {
    const name = await deployFixture(h.client, 'echo', { Tags: { key_a: 'value_a' } });
    const arn = ARN(name);
    expect(await list(arn)).toEqual({ key_a: 'value_a' });
    expect(await tagsOf(name)).toEqual({ key_a: 'value_a' });

    const rev1 = await revision(name);
    const tagged = await h.client.send(
      new TagResourceCommand({ Resource: arn, Tags: { key_b: 'value_b', key_c: 'value_c', key_d: 'value_d', key_e: 'value_e' } }),
    );
    expect(tagged.$metadata.httpStatusCode).toBe(204);
    const all = { key_a: 'value_a', key_b: 'value_b', key_c: 'value_c', key_d: 'value_d', key_e: 'value_e' };
    expect(await list(arn)).toEqual(all);
    expect(await tagsOf(name)).toEqual(all);
    const rev2 = await revision(name);
    expect(rev2).not.toBe(rev1);

    await h.client.send(new TagResourceCommand({ Resource: arn, Tags: { key_b: 'value_b', key_c: 'value_x' } }));
    expect(await list(arn)).toEqual({ ...all, key_c: 'value_x' });
    const rev3 = await revision(name);
    expect(rev3).not.toBe(rev2);

    const untagged = await h.client.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['key_c', 'key_d'] }));
    expect(untagged.$metadata.httpStatusCode).toBe(204);
    expect(await list(arn)).toEqual({ key_a: 'value_a', key_b: 'value_b', key_e: 'value_e' });
    expect(await tagsOf(name)).toEqual({ key_a: 'value_a', key_b: 'value_b', key_e: 'value_e' });
    expect(await revision(name)).not.toBe(rev3);

    // Keys the function does not have are ignored, alone or mixed with ones it has.
    expect((await h.client.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['F'] }))).$metadata.httpStatusCode).toBe(204);
    await h.client.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['key_a', 'key_b', 'key_e', 'F'] }));
    expect(await list(arn)).toEqual({});
    // With no tags left, GetFunction leaves `Tags` out, as Lambda does.
    const got = await h.client.send(new GetFunctionCommand({ FunctionName: name }));
    expect(got).not.toHaveProperty('Tags');

    await h.client.send(new DeleteFunctionCommand({ FunctionName: name }));
    expect(await refusal(list(arn))).toEqual({ name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${arn}` });
  });

  it('a deleted function takes its tags along: one created again under its name starts without them', async () => {
    const name = await deployFixture(h.client, 'echo', { Tags: { team: 'a' } });
    await h.client.send(new DeleteFunctionCommand({ FunctionName: name }));
    await deployFixture(h.client, 'echo', { FunctionName: name });
    expect(await list(ARN(name))).toEqual({});
  });

  it('the ARN may come unencoded in the path; one tagKeys is a list of one', async () => {
    const name = await deployFixture(h.client, 'echo', { Tags: { a: '1', b: '2' } });
    const res = await fetch(`${h.url}/2017-03-31/tags/${ARN(name)}?tagKeys=a`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    const listed = await fetch(`${h.url}/2017-03-31/tags/${ARN(name)}`);
    expect(await listed.json()).toEqual({ Tags: { b: '2' } });
  });
});

describe('refusals (TestLambdaTags::test_tag_exceptions, TestLambdaTag::test_tag_exceptions, test_tag_nonexisting_resource)', () => {
  let name: string;
  let arn: string;
  beforeAll(async () => {
    name = await deployFixture(h.client, 'echo');
    arn = ARN(name);
  });

  it('an ARN outside the resource pattern: ValidationException quoting it', async () => {
    for (const bad of ['arn:aws:something', 'arn:aws:lambda:us-east-1:000000000000:foobar:fn']) {
      expect(await refusal(h.client.send(new TagResourceCommand({ Resource: bad, Tags: { key_a: 'value_a' } })))).toEqual({
        name: 'ValidationException',
        status: 400,
        message: invalidArn(bad),
      });
      expect(await refusal(list(bad))).toEqual({ name: 'ValidationException', status: 400, message: invalidArn(bad) });
    }
  });

  it('a function that does not exist: not found on tag, untag and list', async () => {
    const missing = ARN('doesnotexist');
    const want = { name: 'ResourceNotFoundException', status: 404, message: `Function not found: ${missing}` };
    expect(await refusal(h.client.send(new TagResourceCommand({ Resource: missing, Tags: { A: 'B' } })))).toEqual(want);
    expect(await refusal(h.client.send(new UntagResourceCommand({ Resource: missing, TagKeys: ['A'] })))).toEqual(want);
    expect(await refusal(list(missing))).toEqual(want);
  });

  it('a qualified ARN, existing or not, $LATEST or an alias: refused before the lookup', async () => {
    const want = { name: 'InvalidParameterValueException', status: 400, message: QUALIFIED };
    expect(await refusal(h.client.send(new TagResourceCommand({ Resource: `${arn}:v1`, Tags: { key_a: 'value_a' } })))).toEqual(want);
    expect(await refusal(h.client.send(new TagResourceCommand({ Resource: `${arn}:$LATEST`, Tags: { key_a: 'value_a' } })))).toEqual(want);
    expect(await refusal(list(`${ARN('doesnotexist')}:alias`))).toEqual(want);
    expect(await refusal(h.client.send(new UntagResourceCommand({ Resource: `${arn}:1`, TagKeys: ['A'] })))).toEqual(want);
  });

  it('a function that never had tags lists {}; removing a key it lacks succeeds', async () => {
    const listed = await h.client.send(new ListTagsCommand({ Resource: arn }));
    expect(listed.$metadata.httpStatusCode).toBe(200);
    expect(listed.Tags).toEqual({});
    const untag = await h.client.send(new UntagResourceCommand({ Resource: arn, TagKeys: ['somekey'] }));
    expect(untag.$metadata.httpStatusCode).toBe(204);
  });

  it('untag with no keys, tag with an empty map: AWS words', async () => {
    expect(await refusal(h.client.send(new UntagResourceCommand({ Resource: arn, TagKeys: [] })))).toEqual({
      name: 'ValidationException',
      status: 400,
      message: "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null",
    });
    expect(await refusal(h.client.send(new TagResourceCommand({ Resource: arn, Tags: {} })))).toEqual({
      name: 'InvalidParameterValueException',
      status: 400,
      message: 'An error occurred and the request cannot be processed.',
    });
  });

  it('event source mappings and capacity providers: not found, in their own words; with a qualifier the pattern fails', async () => {
    const esm = 'arn:aws:lambda:us-east-1:000000000000:event-source-mapping:0b7e4a5c-1f2d-4e3a-9c8b-7a6d5e4f3a2b';
    const cp = 'arn:aws:lambda:us-east-1:000000000000:capacity-provider:pool';
    for (const [resource, word] of [[esm, 'Event source mapping'], [cp, 'Capacity provider']] as const) {
      const want = { name: 'ResourceNotFoundException', status: 404, message: `${word} not found: ${resource}` };
      expect(await refusal(h.client.send(new TagResourceCommand({ Resource: resource, Tags: { A: 'B' } })))).toEqual(want);
      expect(await refusal(h.client.send(new UntagResourceCommand({ Resource: resource, TagKeys: ['A'] })))).toEqual(want);
      expect(await refusal(list(resource))).toEqual(want);
      expect(await refusal(list(`${resource}:alias`))).toEqual({ name: 'ValidationException', status: 400, message: invalidArn(`${resource}:alias`) });
    }
  });

  it('wrong JSON types and missing members are refused by the request shape', async () => {
    const post = (body: unknown) =>
      fetch(`${h.url}/2017-03-31/tags/${encodeURIComponent(arn)}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const body of [{ Tags: 'x' }, { Tags: ['a'] }, { Tags: { a: 5 } }]) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(res.headers.get('x-amzn-errortype')).toBe('SerializationException');
      expect(((await res.json()) as { message: string }).message).toContain("'Tags");
    }
    const res = await post({});
    expect(res.status).toBe(400);
    expect(((await res.json()) as { message: string }).message).toBe(
      "1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null",
    );
    expect(await list(arn)).toEqual({});
  });

  it('keys over 128 characters and values over 256 are refused, and nothing is stored', async () => {
    for (const tags of [{ ['k'.repeat(129)]: 'v' }, { k: 'v'.repeat(257) }]) {
      const e = await refusal(h.client.send(new TagResourceCommand({ Resource: arn, Tags: tags })));
      expect(e).toMatchObject({ name: 'ValidationException', status: 400 });
      expect(e.message).toMatch(/^1 validation error detected: .* at 'tags' failed to satisfy constraint: Map (keys|value) must satisfy constraint: \[Member must have length less than or equal to (128|256)/);
    }
    expect(await list(arn)).toEqual({});
  });
});

describe('limits (TestLambdaTags::test_tag_limits)', () => {
  const many = (n: number, from = 0) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`${i + from}_key`, `${i + from}_value`]));

  it('50 tags per function, counting the ones it has; CreateFunction too', async () => {
    const name = await deployFixture(h.client, 'echo');
    const arn = ARN(name);
    const want = { name: 'InvalidParameterValueException', status: 400, message: TOO_MANY };
    expect(await refusal(h.client.send(new TagResourceCommand({ Resource: arn, Tags: many(51) })))).toEqual(want);
    expect(await list(arn)).toEqual({});

    expect((await h.client.send(new TagResourceCommand({ Resource: arn, Tags: many(50) }))).$metadata.httpStatusCode).toBe(204);
    expect(await list(arn)).toEqual(many(50));
    expect(await tagsOf(name)).toEqual(many(50));
    expect(await refusal(h.client.send(new TagResourceCommand({ Resource: arn, Tags: { a_key: 'a_value' } })))).toEqual(want);
    // Overwriting keys it has already does not grow the count.
    await h.client.send(new TagResourceCommand({ Resource: arn, Tags: many(10, 40) }));

    const refused = await refusal(
      h.client.send(
        new CreateFunctionCommand({
          FunctionName: 'too-many-tags',
          Role: 'arn:aws:iam::000000000000:role/test',
          Runtime: 'nodejs20.x' as Runtime,
          Handler: 'index.handler',
          Code: { ZipFile: await zipFixture('echo') },
          Tags: many(51),
        }),
      ),
    );
    expect(refused).toEqual(want);
    expect(await refusal(list(ARN('too-many-tags')))).toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('versions (TestLambdaTags::test_tag_versions)', () => {
  it('tags are the function\'s: a version ARN is refused, and versions show the current tags', async () => {
    const name = await deployFixture(h.client, 'echo', { Tags: { key_a: 'value_a' } });
    const v = await h.client.send(new PublishVersionCommand({ FunctionName: name }));
    const want = { name: 'InvalidParameterValueException', status: 400, message: QUALIFIED };
    const four = { key_b: 'value_b', key_c: 'value_c', key_d: 'value_d', key_e: 'value_e' };
    expect(await refusal(h.client.send(new TagResourceCommand({ Resource: v.FunctionArn, Tags: four })))).toEqual(want);
    expect(await refusal(h.client.send(new TagResourceCommand({ Resource: `${ARN(name)}:$LATEST`, Tags: four })))).toEqual(want);
    expect(await list(ARN(name))).toEqual({ key_a: 'value_a' });

    await h.client.send(new TagResourceCommand({ Resource: ARN(name), Tags: { key_b: 'value_b' } }));
    expect(await tagsOf(name, v.Version)).toEqual({ key_a: 'value_a', key_b: 'value_b' });
  });
});

describe('restart', () => {
  it('tags and the isolation they set survive a restart', async () => {
    const first = await startLaminar();
    const dir = first.dataDir;
    let second: Harness | undefined;
    try {
      const name = await deployFixture(first.client, 'echo', { FunctionName: 'kept-tags', Tags: { team: 'core', 'laminar:isolation': 'process' } });
      await first.client.send(new TagResourceCommand({ Resource: ARN(name), Tags: { stage: 'prod' } }));
      await first.client.send(new UntagResourceCommand({ Resource: ARN(name), TagKeys: ['team'] }));
      // The harness's own close() would remove the data dir; stop the server alone and start another on it.
      await first.laminar.close();
      second = await startLaminar({}, {}, dir);
      const want = { stage: 'prod', 'laminar:isolation': 'process' };
      expect(await list(ARN(name), second.client)).toEqual(want);
      expect(await tagsOf(name, undefined, second.client)).toEqual(want);
      expect(second.laminar.registry.resolve(name, undefined).isolation).toBe('process');
    } finally {
      await second?.close();
      first.client.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('laminar:isolation', () => {
  const refusedValue = (v: string) => `Value '${v}' of tag laminar:isolation is not supported. Valid values: thread, process.`;

  it('CreateFunction refuses any value but thread or process, and creates nothing', async () => {
    for (const value of ['fork', 'Thread', '']) {
      const e = await refusal(
        h.client.send(
          new CreateFunctionCommand({
            FunctionName: 'bad-isolation',
            Role: 'arn:aws:iam::000000000000:role/test',
            Runtime: 'nodejs20.x' as Runtime,
            Handler: 'index.handler',
            Code: { ZipFile: await zipFixture('echo') },
            Tags: { 'laminar:isolation': value },
          }),
        ),
      );
      expect(e).toEqual({ name: 'InvalidParameterValueException', status: 400, message: refusedValue(value) });
    }
    expect(await refusal(list(ARN('bad-isolation')))).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('TagResource refuses a bad value and keeps the tags as they were', async () => {
    const name = await deployFixture(h.client, 'echo', { Tags: { 'laminar:isolation': 'thread' } });
    const e = await refusal(h.client.send(new TagResourceCommand({ Resource: ARN(name), Tags: { other: 'x', 'laminar:isolation': 'vm' } })));
    expect(e).toEqual({ name: 'InvalidParameterValueException', status: 400, message: refusedValue('vm') });
    expect(await list(ARN(name))).toEqual({ 'laminar:isolation': 'thread' });
  });

  it('the resolved invocation target carries the tag, for $LATEST, versions and aliases, and follows its changes', async () => {
    const registry = h.laminar.registry;
    const name = await deployFixture(h.client, 'echo');
    expect(registry.resolve(name, undefined).isolation).toBeUndefined();

    await h.client.send(new TagResourceCommand({ Resource: ARN(name), Tags: { 'laminar:isolation': 'process' } }));
    const v = await h.client.send(new PublishVersionCommand({ FunctionName: name }));
    registry.createAlias(name, { Name: 'live', FunctionVersion: v.Version as string });
    const target = registry.resolve(name, undefined);
    expect(target.isolation).toBe('process');
    expect(registry.resolve(name, v.Version).isolation).toBe('process');
    expect(registry.resolve(name, 'live').isolation).toBe('process');
    // Cached until the next registry write: reading the tag adds nothing per invoke.
    expect(registry.resolve(name, undefined)).toBe(target);

    await h.client.send(new TagResourceCommand({ Resource: ARN(name), Tags: { 'laminar:isolation': 'thread' } }));
    expect(registry.resolve(name, undefined).isolation).toBe('thread');
    expect(registry.resolve(name, 'live').isolation).toBe('thread');

    await h.client.send(new UntagResourceCommand({ Resource: ARN(name), TagKeys: ['laminar:isolation'] }));
    expect(registry.resolve(name, undefined).isolation).toBeUndefined();
  });
});
