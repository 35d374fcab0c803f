import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Argv } from 'yargs';
import { ClusterState } from '../../common/cluster-state/cluster-state';
import { MemoryStateServer } from '../../common/cluster-state/memory-store';
import { resolveDaemonConfig } from '../../common/config';
import { createLogger } from '../../common/logging';
import { startNimbus } from '../../nimbus/main';
import { startSupervisor } from '../../supervisor/main';
import type { CliContext } from '../context';
import { loadDaemonConfig, type ConfigArgs } from '../daemon-config';

interface Closable {
  close(): Promise<void>;
}

/** Runs daemons until SIGINT/SIGTERM, then closes them in reverse order. */
async function runUntilSignal(ctx: CliContext, started: Closable[], onStop?: () => void): Promise<void> {
  await new Promise<void>((resolve) => ctx.onInterrupt(resolve));
  ctx.err('stopping…');
  for (const d of [...started].reverse()) await d.close();
  onStop?.();
}

const configOptions = <T>(y: Argv<T>) =>
  y
    .option('config', { type: 'string', describe: 'JSON config file (default: $SQUALL_CONF)' })
    .option('c', { type: 'string', array: true, describe: 'Config override key=value (repeatable)' });

export function nimbusCommand(ctx: CliContext) {
  return {
    command: 'nimbus',
    describe: 'Run Nimbus (needs storm.zookeeper.servers) with its REST API',
    builder: (y: Argv) => configOptions(y).option('port', { type: 'number', describe: 'REST port (nimbus.port)' }),
    handler: (argv: ConfigArgs & { port?: number }) =>
      ctx.run(async () => {
        const { daemon } = loadDaemonConfig(argv, { 'nimbus.port': argv.port });
        const nimbus = await startNimbus({ ...daemon });
        ctx.out(`nimbus listening at ${nimbus.url} (web UI: ${nimbus.url}/)`);
        await runUntilSignal(ctx, [nimbus]);
      }),
  };
}

export function supervisorCommand(ctx: CliContext) {
  return {
    command: 'supervisor',
    describe: 'Run a supervisor (needs storm.zookeeper.servers); it runs workers on supervisor.slots.ports',
    builder: (y: Argv) => configOptions(y).option('ports', { type: 'string', describe: 'Slot ports, comma separated (supervisor.slots.ports)' }),
    handler: (argv: ConfigArgs & { ports?: string }) =>
      ctx.run(async () => {
        const ports = argv.ports?.split(',').map((p) => Number(p.trim()));
        const { daemon } = loadDaemonConfig(argv, { 'supervisor.slots.ports': ports });
        const sup = await startSupervisor(daemon);
        ctx.out(`supervisor ${sup.id} running slots ${(daemon['supervisor.slots.ports'] as number[]).join(', ')}`);
        await runUntilSignal(ctx, [sup]);
      }),
  };
}

export interface DevCluster {
  url: string;
  supervisors: string[];
  close(): Promise<void>;
}

/**
 * A one-machine cluster in this process: Nimbus and `supervisors` supervisors over the embedded
 * in-memory store, running real worker processes. Data goes to a temporary directory unless
 * storm.local.dir is given.
 */
export async function startDevCluster(raw: Record<string, unknown>, options: { supervisors: number; slots: number; firstSlotPort: number }): Promise<DevCluster> {
  const base = resolveDaemonConfig(raw);
  const dir = raw['storm.local.dir'] ? String(raw['storm.local.dir']) : fs.mkdtempSync(path.join(os.tmpdir(), 'squall-dev-'));
  const server = new MemoryStateServer();
  const logger = createLogger({ level: base['squall.log.level'] as string, name: 'squall-dev' });
  const started: Closable[] = [];
  const stores: Closable[] = [];
  try {
    const nimbusStore = server.connect();
    stores.push(nimbusStore);
    const nimbus = await startNimbus({ ...base, 'storm.local.dir': path.join(dir, 'nimbus') }, { clusterState: new ClusterState(nimbusStore), logger });
    started.push(nimbus);
    const ids: string[] = [];
    for (let i = 0; i < options.supervisors; i++) {
      const ports = Array.from({ length: options.slots }, (_, k) => options.firstSlotPort + i * options.slots + k);
      const conf = resolveDaemonConfig({
        ...raw,
        'nimbus.host': '127.0.0.1',
        'nimbus.port': nimbus.port,
        'supervisor.slots.ports': ports,
        'supervisor.id': `dev-supervisor-${i + 1}`,
        'storm.local.dir': path.join(dir, `supervisor-${i + 1}`),
        // one machine: its supervisors share the embedded state backend's files
        'squall.state.dir': raw['squall.state.dir'] ?? path.join(dir, 'state'),
      });
      const store = server.connect();
      stores.push(store);
      const sup = await startSupervisor(conf, { state: new ClusterState(store), logger });
      started.push(sup);
      ids.push(sup.id);
    }
    let closing: Promise<void> | null = null;
    return {
      url: nimbus.url,
      supervisors: ids,
      close: () =>
        (closing ??= (async () => {
          for (const d of [...started].reverse()) await d.close();
          for (const s of stores) await s.close();
          if (!raw['storm.local.dir']) fs.rmSync(dir, { recursive: true, force: true });
        })()),
    };
  } catch (err) {
    for (const d of [...started].reverse()) await d.close();
    for (const s of stores) await s.close();
    throw err;
  }
}

export function devCommand(ctx: CliContext) {
  return {
    command: 'dev',
    describe: 'Run a one-machine cluster (Nimbus + supervisors, in-memory state, real worker processes); no ZooKeeper needed',
    builder: (y: Argv) =>
      configOptions(y)
        .option('port', { type: 'number', default: 6627, describe: 'Nimbus REST port' })
        .option('supervisors', { type: 'number', default: 1, describe: 'Supervisors to run' })
        .option('slots', { type: 'number', default: 4, describe: 'Worker slots per supervisor' })
        .option('slot-port', { type: 'number', default: 6700, describe: 'First slot port' }),
    handler: (argv: ConfigArgs & { port: number; supervisors: number; slots: number; 'slot-port': number }) =>
      ctx.run(async () => {
        const { daemon } = loadDaemonConfig(argv, { 'nimbus.port': argv.port });
        const dev = await startDevCluster({ ...daemon }, { supervisors: argv.supervisors, slots: argv.slots, firstSlotPort: argv['slot-port'] });
        ctx.out(`dev cluster: nimbus at ${dev.url}, supervisors ${dev.supervisors.join(', ')}`);
        ctx.out(`web UI: ${dev.url}/`);
        ctx.out(`submit with: npx squall submit examples/word-count/topology.ts --nimbus ${dev.url.replace('http://', '')}`);
        await runUntilSignal(ctx, [dev]);
      }),
  };
}
