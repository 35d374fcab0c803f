/**
 * Nimbus as a process: `startNimbus(config)` for the CLI (`squall nimbus`, `squall dev`) and tests,
 * and a process entry (`node dist/nimbus/main.js [--config file.json]`) that closes in order on
 * SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SystemClock, type Clock } from '../common/clock';
import { ClusterState } from '../common/cluster-state/cluster-state';
import { ZkStateStore } from '../common/cluster-state/zk-store';
import { cfg, isLoopback, resolveDaemonConfig, zookeeperConnectString, type DaemonConfig } from '../common/config';
import { describeError, squallError } from '../common/errors';
import { createLogger, type Logger } from '../common/logging';
import { ForkBundleProbe, type BundleProbe } from './bundle-probe';
import { BundleStore } from './bundle-store';
import { Nimbus } from './nimbus';
import { buildNimbusApp } from './rest';
import { loadUiAssets, type UiAssets } from './ui-assets';

export interface StartNimbusOptions {
  logger?: Logger;
  /**
   * Cluster state to use instead of connecting to ZooKeeper (`squall dev` passes an in-memory
   * one). Nimbus does not close it.
   */
  clusterState?: ClusterState;
  clock?: Clock;
  /** Replaces the forking bundle probe (tests). */
  probe?: BundleProbe;
  /** The web UI to serve at `/` (default: the built one, dist/ui). */
  ui?: UiAssets;
}

export interface RunningNimbus {
  /** `http://host:port` of the REST API. */
  url: string;
  port: number;
  nimbus: Nimbus;
  /** Stops listening, stops Nimbus, closes the state store it opened. Idempotent. */
  close(): Promise<void>;
}

/** Refuses to listen beyond loopback without a token (ERR_INSECURE_LISTEN). */
export function checkListenSecurity(config: DaemonConfig): void {
  const host = cfg.str(config, 'nimbus.bind.host');
  if (!isLoopback(host) && cfg.strOrNull(config, 'nimbus.auth.token') === null) {
    throw squallError('ERR_INSECURE_LISTEN', `nimbus.bind.host is ${host}; set nimbus.auth.token to listen beyond loopback`);
  }
}

export async function startNimbus(rawConfig: Record<string, unknown>, options: StartNimbusOptions = {}): Promise<RunningNimbus> {
  const config = resolveDaemonConfig(rawConfig);
  checkListenSecurity(config);
  const clock = options.clock ?? new SystemClock();
  const logger = options.logger ?? createLogger({ level: cfg.str(config, 'squall.log.level'), name: 'nimbus' });
  const steps: Array<() => Promise<void>> = [];
  const closeAll = async (): Promise<void> => {
    for (const stepClose of steps.splice(0).reverse()) {
      try {
        await stepClose();
      } catch (err) {
        logger.warn({ err }, 'a nimbus shutdown step failed');
      }
    }
  };
  try {
    const state = options.clusterState ?? (await openClusterState(config, logger, clock, steps));
    const bundles = BundleStore.fromConfig(config);
    const probe = options.probe ?? new ForkBundleProbe({ timeoutMs: cfg.secsToMs(config, 'nimbus.bundle.probe.timeout.secs'), logger });
    const nimbus = new Nimbus({ state, bundles, probe, clock, logger, config });
    const server = createServer(buildNimbusApp({ nimbus, config, logger, clock, ui: options.ui ?? loadUiAssets() }));
    server.on('clientError', (err, socket) => {
      logger.debug({ err }, 'malformed HTTP request');
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
    const port = await listen(server, cfg.str(config, 'nimbus.bind.host'), cfg.num(config, 'nimbus.port'));
    steps.push(() => closeServer(server));
    const advertised = cfg.str(config, 'nimbus.host');
    steps.push(() => nimbus.close());
    await nimbus.start({ host: advertised, port });
    const bindHost = cfg.str(config, 'nimbus.bind.host');
    const urlHost = isLoopback(bindHost) ? bindHost : advertised;
    const url = `http://${urlHost.includes(':') ? `[${urlHost}]` : urlHost}:${port}`;
    logger.info({ url }, 'nimbus listening');
    let closing: Promise<void> | null = null;
    return { url, port, nimbus, close: () => (closing ??= closeAll()) };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

async function openClusterState(config: DaemonConfig, logger: Logger, clock: Clock, steps: Array<() => Promise<void>>): Promise<ClusterState> {
  if (cfg.list<string>(config, 'storm.zookeeper.servers').length === 0) {
    throw squallError(
      'ERR_CONFIG_INVALID',
      'storm.zookeeper.servers is empty: a standalone Nimbus needs ZooKeeper (use `squall dev` for a one-machine cluster with in-memory state)',
    );
  }
  const store = await ZkStateStore.connect({
    connectString: zookeeperConnectString(config),
    sessionTimeoutMs: cfg.num(config, 'storm.zookeeper.session.timeout'),
    connectTimeoutMs: cfg.num(config, 'storm.zookeeper.connection.timeout'),
    logger,
    clock,
  });
  steps.push(() => store.close());
  return new ClusterState(store, { root: cfg.str(config, 'storm.zookeeper.root'), logger });
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** `--config <file.json>`: the daemon config file (JSON object). */
function readConfigFile(argv: string[]): Record<string, unknown> {
  const i = argv.indexOf('--config');
  if (i < 0) return {};
  const file = argv[i + 1];
  if (!file) throw squallError('ERR_CONFIG_INVALID', '--config needs a file');
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw squallError('ERR_CONFIG_INVALID', `${file}: ${describeError(err)}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw squallError('ERR_CONFIG_INVALID', `${file} must hold a JSON object`);
  return parsed as Record<string, unknown>;
}

async function main(): Promise<void> {
  let running: RunningNimbus;
  try {
    running = await startNimbus(readConfigFile(process.argv.slice(2)));
  } catch (err) {
    console.error(`squall nimbus: ${(err as { code?: string }).code ?? 'ERR_INTERNAL'}: ${describeError(err)}`);
    process.exit(1);
  }
  const stop = (signal: string): void => {
    console.error(`squall nimbus: ${signal}, shutting down`);
    running.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) void main();
