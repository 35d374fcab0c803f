import type { Argv } from 'yargs';
import { squallError } from '../../topology-api';
import { buildBundle } from '../bundle';
import type { CliContext } from '../context';
import { loadDaemonConfig, nimbusUrl, type ConfigArgs } from '../daemon-config';
import { formatDuration, table } from '../format';
import { NimbusClient } from '../nimbus-client';
import { componentTable, pageToView, progressLine, type ComponentsView } from '../stats-view';
import { defaultName } from './local';
import { checkpointLine } from '../../common/checkpoint-stats';

interface ClientArgs extends ConfigArgs {
  nimbus?: string;
  token?: string;
}

/** Options every command that talks to Nimbus takes. */
export function withNimbusOptions<T>(y: Argv<T>) {
  return y
    .option('nimbus', { type: 'string', describe: 'Nimbus address host:port (default: nimbus.host:nimbus.port from config)' })
    .option('token', { type: 'string', describe: 'Bearer token (default: nimbus.auth.token, or $SQUALL_TOKEN)' })
    .option('config', { type: 'string', describe: 'JSON config file (default: $SQUALL_CONF)' })
    .option('c', { type: 'string', array: true, describe: 'Config override key=value (repeatable)' });
}

export function clientFor(args: ClientArgs, daemon = loadDaemonConfig(args).daemon): NimbusClient {
  const token = args.token ?? process.env.SQUALL_TOKEN ?? (daemon['nimbus.auth.token'] as string | null);
  return new NimbusClient({ url: nimbusUrl(daemon, args.nimbus), token });
}

export function submitCommand(ctx: CliContext) {
  return {
    command: 'submit <file>',
    describe: 'Build a topology module into one bundle and submit it to Nimbus',
    builder: (y: Argv) =>
      withNimbusOptions(y)
        .positional('file', { type: 'string', demandOption: true, describe: 'Topology module (.ts or .js); see docs/writing-topologies.md' })
        .option('name', { type: 'string', describe: 'Topology name (default: the file name)' }),
    handler: (argv: ClientArgs & { file: string; name?: string }) =>
      ctx.run(async () => {
        const { daemon, topology } = loadDaemonConfig(argv, {}, { userKeysToTopology: true });
        const bundle = await buildBundle(argv.file);
        bundle.dispose(); // only the bytes are uploaded
        const name = argv.name ?? defaultName(argv.file);
        const result = await clientFor(argv, daemon).submit(name, bundle.code, topology);
        ctx.out(`submitted "${result.name}" as ${result.id} (${result.status}; bundle sha256 ${result.bundleHash.slice(0, 12)}…, ${bundle.code.length} bytes)`);
      }),
  };
}

export function listCommand(ctx: CliContext) {
  return {
    command: 'list',
    describe: 'List topologies: name, status, workers, executors, tasks, uptime',
    builder: (y: Argv) => withNimbusOptions(y),
    handler: (argv: ClientArgs) =>
      ctx.run(async () => {
        const { topologies } = await clientFor(argv).topologies();
        if (topologies.length === 0) {
          ctx.out('No topologies running.');
          return;
        }
        ctx.out(
          table(
            ['name', 'status', 'workers', 'executors', 'tasks', 'uptime', 'id', 'note'],
            topologies.map((t) => [t.name, t.status, t.workersTotal, t.executorsTotal, t.tasksTotal, formatDuration(t.uptimeSeconds), t.id, t.schedulerDisplayResource ?? '']),
          ),
        );
      }),
  };
}

/** Default wait of kill and rebalance: the topology's message timeout, as in Storm. */
async function waitOrDefault(client: NimbusClient, name: string, wait: number | undefined): Promise<number> {
  if (wait !== undefined) {
    if (!Number.isFinite(wait) || wait < 0) throw squallError('ERR_CONFIG_INVALID', `-w must be a number of seconds >= 0 (got ${wait})`);
    return wait;
  }
  return (await client.topology(name)).msgTimeout;
}

export function killCommand(ctx: CliContext) {
  return {
    command: 'kill <name>',
    describe: 'Kill a topology: spouts are deactivated, workers stop after the wait',
    builder: (y: Argv) => withNimbusOptions(y).positional('name', { type: 'string', demandOption: true }).option('w', { alias: 'wait', type: 'number', describe: 'Seconds to wait (default: topology.message.timeout.secs)' }),
    handler: (argv: ClientArgs & { name: string; w?: number }) =>
      ctx.run(async () => {
        const client = clientFor(argv);
        const wait = await waitOrDefault(client, argv.name, argv.w);
        await client.kill(argv.name, wait);
        ctx.out(`killed "${argv.name}"; its workers stop in ${wait}s`);
      }),
  };
}

export function activationCommand(ctx: CliContext, verb: 'activate' | 'deactivate') {
  return {
    command: `${verb} <name>`,
    describe: verb === 'activate' ? "Activate a topology's spouts" : "Deactivate a topology's spouts (nextTuple stops; in-flight tuples finish)",
    builder: (y: Argv) => withNimbusOptions(y).positional('name', { type: 'string', demandOption: true }),
    handler: (argv: ClientArgs & { name: string }) =>
      ctx.run(async () => {
        const client = clientFor(argv);
        await (verb === 'activate' ? client.activate(argv.name) : client.deactivate(argv.name));
        ctx.out(`${verb}d "${argv.name}"`);
      }),
  };
}

function parseExecutors(list: string[] | undefined): Record<string, number> | undefined {
  if (!list || list.length === 0) return undefined;
  const out: Record<string, number> = {};
  for (const item of list) {
    const m = /^([^=]+)=(\d+)$/.exec(item);
    if (!m) throw squallError('ERR_CONFIG_INVALID', `-e expects component=N, got ${JSON.stringify(item)}`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

export function rebalanceCommand(ctx: CliContext) {
  return {
    command: 'rebalance <name>',
    describe: 'Change the workers and per-component executors of a running topology',
    builder: (y: Argv) =>
      withNimbusOptions(y)
        .positional('name', { type: 'string', demandOption: true })
        .option('w', { alias: 'wait', type: 'number', describe: 'Seconds spouts stay deactivated first (default: topology.message.timeout.secs)' })
        .option('n', { alias: 'num-workers', type: 'number', describe: 'New number of workers' })
        .option('e', { alias: 'executor', type: 'string', array: true, describe: 'component=N executors (repeatable)' }),
    handler: (argv: ClientArgs & { name: string; w?: number; n?: number; e?: string[] }) =>
      ctx.run(async () => {
        const client = clientFor(argv);
        const executors = parseExecutors(argv.e);
        const wait = await waitOrDefault(client, argv.name, argv.w);
        await client.rebalance(argv.name, wait, { numWorkers: argv.n, executors });
        ctx.out(`rebalancing "${argv.name}" in ${wait}s${argv.n ? ` to ${argv.n} workers` : ''}${executors ? ` with ${JSON.stringify(executors)}` : ''}`);
      }),
  };
}

export function monitorCommand(ctx: CliContext) {
  return {
    command: 'monitor <name>',
    describe: 'Print emitted/executed and acked per second for each component, live, the windows of windowed bolts and the calls in flight of async bolts',
    builder: (y: Argv) =>
      withNimbusOptions(y)
        .positional('name', { type: 'string', demandOption: true })
        .option('i', { alias: 'interval', type: 'number', default: 2, describe: 'Seconds between lines' })
        .option('duration', { type: 'number', describe: 'Stop after this many seconds (default: until Ctrl-C)' }),
    handler: (argv: ClientArgs & { name: string; i: number; duration?: number }) =>
      ctx.run(async () => {
        const client = clientFor(argv);
        const started = performance.now();
        let prev: ComponentsView = pageToView(await client.topology(argv.name));
        let prevAt = performance.now();
        let stop = false;
        ctx.onInterrupt(() => (stop = true));
        while (!stop && (argv.duration === undefined || performance.now() - started < argv.duration * 1000)) {
          await new Promise((r) => setTimeout(r, argv.i * 1000));
          const page = await client.topology(argv.name);
          const cur = pageToView(page);
          const now = performance.now();
          ctx.out(progressLine(prev, cur, (now - prevAt) / 1000, (now - started) / 1000));
          if (page.checkpoint !== undefined) ctx.out(`       ${checkpointLine(page.checkpoint)}`);
          prev = cur;
          prevAt = now;
        }
        ctx.out(componentTable(prev));
      }),
  };
}
