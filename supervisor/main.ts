/**
 * Starting a supervisor: `startSupervisor(config, opts)` for the CLI (`squall supervisor`) and
 * `squall dev` (which injects an in-memory ClusterState shared with Nimbus), and the process
 * entry point `node dist/supervisor/main.js [config.json]`.
 */
import * as fs from 'node:fs';
import { ClusterState } from '../common/cluster-state/cluster-state';
import { ZkStateStore } from '../common/cluster-state/zk-store';
import { SystemClock, type Clock } from '../common/clock';
import { cfg, resolveDaemonConfig, zookeeperConnectString, type DaemonConfig } from '../common/config';
import { describeError, errorCode, squallError } from '../common/errors';
import { createLogger, type Logger } from '../common/logging';
import { Random } from '../common/random';
import type { HeartbeatSink } from '../common/protocol/heartbeats';
import { BundleCache, bundleCacheOptionsFromConfig, type BundleProvider } from './bundle-cache';
import { HttpHeartbeatSink } from './heartbeat-sink';
import { ProcessLauncher, type WorkerLauncher } from './launcher';
import { logsRootOf } from './log-files';
import { checkLogviewerListen, startLogviewer, type RunningLogviewer } from './logviewer';
import { Supervisor } from './supervisor';
import { squallVersion } from '../common/version';

export interface StartSupervisorOptions {
  /** Cluster state to use; default: ZooKeeper at storm.zookeeper.servers. */
  state?: ClusterState;
  launcher?: WorkerLauncher;
  bundles?: BundleProvider;
  logger?: Logger;
  clock?: Clock;
  random?: Random;
  /** Default: Nimbus's REST API at nimbus.host:nimbus.port. */
  heartbeats?: HeartbeatSink;
}

export interface SupervisorHandle {
  id: string;
  supervisor: Supervisor;
  /** Stops every worker, removes the supervisor node, closes what startSupervisor opened. Idempotent. */
  close(): Promise<void>;
}

export async function startSupervisor(config: DaemonConfig, opts: StartSupervisorOptions = {}): Promise<SupervisorHandle> {
  const logger = opts.logger ?? createLogger({ level: cfg.str(config, 'squall.log.level'), name: 'supervisor' });
  const clock = opts.clock ?? new SystemClock();
  const random = opts.random ?? new Random();
  checkLogviewerListen(config);
  let store: ZkStateStore | null = null;
  let state = opts.state;
  if (!state) {
    if (cfg.list<string>(config, 'storm.zookeeper.servers').length === 0) {
      throw squallError('ERR_CONFIG_INVALID', 'a supervisor process needs storm.zookeeper.servers (the in-memory store only works inside `squall dev`)');
    }
    store = await ZkStateStore.connect({
      connectString: zookeeperConnectString(config),
      sessionTimeoutMs: cfg.num(config, 'storm.zookeeper.session.timeout'),
      connectTimeoutMs: cfg.num(config, 'storm.zookeeper.connection.timeout'),
      logger,
    });
    state = new ClusterState(store, { root: cfg.str(config, 'storm.zookeeper.root'), logger });
  }
  const logviewer = await startLogviewer(config, logger).catch((err: unknown) => {
    logger.error({ err: describeError(err) }, 'the log server could not start; worker logs cannot be read through Nimbus');
    return null;
  });
  const launcher =
    opts.launcher ??
    new ProcessLauncher({
      logger: logger.child({ component: 'launcher' }),
      clock,
      output: 'file',
      logs: { root: logsRootOf(cfg.str(config, 'storm.local.dir')), fileBytesMax: cfg.num(config, 'worker.log.max.bytes'), filesMax: cfg.num(config, 'worker.log.max.files') },
    });
  const supervisor = new Supervisor({
    state,
    launcher,
    bundles: opts.bundles ?? new BundleCache({ ...bundleCacheOptionsFromConfig(config), clock, random, logger }),
    clock,
    random,
    logger,
    config,
    version: squallVersion(),
    heartbeats: opts.heartbeats ?? HttpHeartbeatSink.fromConfig(config),
    logviewerPort: logviewer?.port ?? null,
  });
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await supervisor.close();
      await closeLogviewer(logviewer, logger);
      if (store) await store.close();
    })();
    return closing;
  };
  try {
    await supervisor.start();
  } catch (err) {
    await close();
    throw err;
  }
  return { id: supervisor.id, supervisor, close };
}

async function closeLogviewer(logviewer: RunningLogviewer | null, logger: Logger): Promise<void> {
  try {
    await logviewer?.close();
  } catch (err) {
    logger.warn({ err: describeError(err) }, 'closing the log server failed');
  }
}

/** `node dist/supervisor/main.js [config.json]`: runs until SIGTERM or SIGINT. */
async function main(): Promise<void> {
  const logger = createLogger({ name: 'supervisor' });
  let handle: SupervisorHandle;
  try {
    const file = process.argv[2];
    const layer = file ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : undefined;
    handle = await startSupervisor(resolveDaemonConfig(layer), { logger });
  } catch (err) {
    logger.fatal({ code: errorCode(err), err: describeError(err) }, 'supervisor failed to start');
    logger.flush();
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    handle.close().then(
      () => {
        logger.flush();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err: describeError(err) }, 'supervisor close failed');
        logger.flush();
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) void main();
