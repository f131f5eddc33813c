#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';

/*
 * Each command loads only what it uses: a client command (deploy, invoke, publish, …) starts in
 * a fraction of the time it would take to load the whole server beside the AWS SDK client.
 */
const client = () => import('./cli/client.js');

const USAGE = `Usage: laminar <command> [options]

Commands:
  serve   [--host H] [--port P] [--data-dir D] [--functions DIR] [--config FILE] [--<config-key> V]
          Run the Lambda API (default http://127.0.0.1:9000).
  deploy  DIR [--name N] [--handler H] [--runtime R] [--memory MB] [--timeout S] [--env K=V]...
          Zip DIR and create or update the function.
  invoke  NAME [--payload JSON|@file] [--qualifier Q] [--async] [--log]
          Invoke a function and print its response.
  publish NAME [--description D]
          Publish $LATEST as a new version (PublishVersion) and print its configuration.
  alias   NAME ALIAS --version V [--description D] [--weights V=W]
          Create the alias, or update it if it exists, and print it. --weights 2=0.1 sends
          10% of its invocations to version 2; without --weights all go to --version.
  url     NAME [--create] [--auth-type NONE|AWS_IAM] [--qualifier ALIAS]
          Print the function's URL (an alias's with --qualifier); --create makes it if
          there is none (AuthType NONE unless --auth-type says otherwise).
  logs    NAME [--follow] [--data-dir D]
          Print a function's logs (START/END/REPORT and app output).
  events failed NAME
          List the function's events kept for its dead-letter queue or for destinations
          Laminar does not deliver to (queues, topics, event buses, buckets).
  events replay ID
          Queue a kept event again, as if accepted now.
  dashboards [DIR]
          Write the Grafana dashboards (default: dashboards/).

deploy, invoke, publish, alias, url and events talk to a running server: --endpoint URL or LAMINAR_ENDPOINT (default http://127.0.0.1:9000).
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve': {
      const { serve, serveFlagOptions } = await import('./cli/serve.js');
      const { values } = parseArgs({ args: rest, options: serveFlagOptions(), strict: true });
      await serve(values);
      return -1; // keeps running
    }
    case 'deploy': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          name: { type: 'string' },
          handler: { type: 'string' },
          runtime: { type: 'string' },
          memory: { type: 'string' },
          timeout: { type: 'string' },
          env: { type: 'string', multiple: true },
          endpoint: { type: 'string' },
        },
      });
      const dir = positionals[0];
      if (!dir) throw new UsageError('deploy needs a folder: laminar deploy DIR');
      const [{ endpointFrom, lambdaClient }, { deploy }] = await Promise.all([client(), import('./cli/deploy.js')]);
      const out = await deploy(lambdaClient(endpointFrom(values.endpoint)), dir, {
        ...(values.name ? { name: values.name } : {}),
        ...(values.handler ? { handler: values.handler } : {}),
        ...(values.runtime ? { runtime: values.runtime } : {}),
        ...(values.memory ? { memory: Number(values.memory) } : {}),
        ...(values.timeout ? { timeout: Number(values.timeout) } : {}),
        ...(values.env ? { env: values.env } : {}),
      });
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return 0;
    }
    case 'invoke': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          payload: { type: 'string' },
          qualifier: { type: 'string' },
          async: { type: 'boolean' },
          log: { type: 'boolean' },
          endpoint: { type: 'string' },
        },
      });
      const name = positionals[0];
      if (!name) throw new UsageError('invoke needs a function name: laminar invoke NAME');
      const [{ endpointFrom, lambdaClient }, { invoke }] = await Promise.all([client(), import('./cli/invoke.js')]);
      const out = await invoke(lambdaClient(endpointFrom(values.endpoint)), name, {
        ...(values.payload !== undefined ? { payload: values.payload } : {}),
        ...(values.qualifier ? { qualifier: values.qualifier } : {}),
        ...(values.async ? { async: true } : {}),
        ...(values.log ? { log: true } : {}),
      });
      if (out.log) process.stderr.write(out.log);
      if (out.payload) process.stdout.write(out.payload + '\n');
      else process.stdout.write(`StatusCode: ${out.statusCode}\n`);
      return out.functionError ? 1 : 0;
    }
    case 'publish': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { description: { type: 'string' }, endpoint: { type: 'string' } },
      });
      const name = positionals[0];
      if (!name) throw new UsageError('publish needs a function name: laminar publish NAME');
      const [{ endpointFrom, lambdaClient }, { publish }] = await Promise.all([client(), import('./cli/versions.js')]);
      const out = await publish(lambdaClient(endpointFrom(values.endpoint)), name, {
        ...(values.description !== undefined ? { description: values.description } : {}),
      });
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return 0;
    }
    case 'alias': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          version: { type: 'string' },
          description: { type: 'string' },
          weights: { type: 'string', multiple: true },
          endpoint: { type: 'string' },
        },
      });
      const [name, aliasName] = positionals;
      if (!name || !aliasName || !values.version) {
        throw new UsageError('alias needs a function, an alias name and a version: laminar alias NAME ALIAS --version V');
      }
      const [{ endpointFrom, lambdaClient }, { alias }] = await Promise.all([client(), import('./cli/versions.js')]);
      const out = await alias(lambdaClient(endpointFrom(values.endpoint)), name, aliasName, {
        version: values.version,
        ...(values.description !== undefined ? { description: values.description } : {}),
        ...(values.weights ? { weights: values.weights } : {}),
      });
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return 0;
    }
    case 'url': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          create: { type: 'boolean' },
          'auth-type': { type: 'string' },
          qualifier: { type: 'string' },
          endpoint: { type: 'string' },
        },
      });
      const name = positionals[0];
      if (!name) throw new UsageError('url needs a function name: laminar url NAME');
      const [{ endpointFrom, lambdaClient }, { functionUrl }] = await Promise.all([client(), import('./cli/url.js')]);
      const out = await functionUrl(lambdaClient(endpointFrom(values.endpoint)), name, {
        ...(values.create ? { create: true } : {}),
        ...(values['auth-type'] !== undefined ? { authType: values['auth-type'] } : {}),
        ...(values.qualifier ? { qualifier: values.qualifier } : {}),
      });
      process.stdout.write(out + '\n');
      return 0;
    }
    case 'logs': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { follow: { type: 'boolean', short: 'f' }, 'data-dir': { type: 'string' } },
      });
      const name = positionals[0];
      if (!name) throw new UsageError('logs needs a function name: laminar logs NAME');
      const dataDir = resolve(values['data-dir'] ?? process.env.LAMINAR_DATA_DIR ?? '.laminar');
      const [{ showLogs }, { LogStore }] = await Promise.all([import('./cli/logs.js'), import('./logs/log-store.js')]);
      await showLogs(LogStore.folderFor(dataDir), name, { follow: values.follow ?? false });
      return 0;
    }
    case 'events': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { endpoint: { type: 'string' } } });
      const [sub, arg] = positionals;
      const [{ endpointFrom }, { failedEvents, replayEvent }] = await Promise.all([client(), import('./cli/events.js')]);
      const endpoint = endpointFrom(values.endpoint);
      if (sub === 'failed' && arg) {
        process.stdout.write(JSON.stringify(await failedEvents(endpoint, arg), null, 2) + '\n');
        return 0;
      }
      if (sub === 'replay' && arg) {
        process.stdout.write(JSON.stringify(await replayEvent(endpoint, arg), null, 2) + '\n');
        return 0;
      }
      throw new UsageError('events needs a subcommand: laminar events failed NAME, or laminar events replay ID');
    }
    case 'dashboards': {
      const { positionals } = parseArgs({ args: rest, allowPositionals: true, options: {} });
      const { writeDashboards } = await import('./cli/dashboards.js');
      for (const file of writeDashboards(positionals[0] ?? 'dashboards')) process.stdout.write(`wrote ${file}\n`);
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return 0;
    default:
      throw new UsageError(`Unknown command ${command}`);
  }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    const e = err as Error & { name?: string };
    if (err instanceof UsageError || e.name === 'TypeError' && /parseArgs|option/i.test(e.message)) {
      process.stderr.write(`laminar: ${e.message}\n\n${USAGE}`);
      process.exit(2);
    }
    process.stderr.write(`laminar: ${e.name && e.name !== 'Error' ? e.name + ': ' : ''}${e.message}\n`);
    process.exit(1);
  },
);
