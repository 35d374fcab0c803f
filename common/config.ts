import * as path from 'node:path';
import { problemsError } from './errors';

/**
 * Daemon configuration (Nimbus, supervisors, workers, the CLI): Storm's key names where Storm has
 * one. Read from a YAML-free JSON file plus flags, validated once at the edge (every problem listed
 * at once), then frozen. Topology keys (`topology.*`) live in topology-api/config.ts.
 */
export type DaemonConfig = Readonly<Record<string, unknown>>;

type Check = (value: unknown) => string | undefined;

interface KeySpec {
  default: unknown;
  check: Check;
  doc: string;
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? undefined : `must be an integer from ${min} to ${max}`;
const positive: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? undefined : 'must be a number > 0');
const str: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty string');
const nullable = (c: Check): Check => (v) => (v === null ? undefined : c(v));
const ports: Check = (v) =>
  Array.isArray(v) && v.length > 0 && v.every((p) => Number.isInteger(p) && p >= 1 && p <= 65535) && new Set(v).size === v.length
    ? undefined
    : 'must be a non-empty list of distinct ports (1-65535)';
const hosts: Check = (v) => (Array.isArray(v) && v.every((h) => typeof h === 'string' && h.length > 0) ? undefined : 'must be a list of host names');
const level: Check = (v) => (['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(v as string) ? undefined : 'must be a pino level (fatal..trace, silent)');

export const DAEMON_CONFIG_SPEC: Readonly<Record<string, KeySpec>> = {
  'storm.zookeeper.servers': { default: [], check: hosts, doc: 'ZooKeeper hosts (host or host:port); empty = the embedded in-memory store (one machine only)' },
  'storm.zookeeper.port': { default: 2181, check: int(1, 65535), doc: 'ZooKeeper port for servers given without one' },
  'storm.zookeeper.root': { default: '/squall', check: (v) => (typeof v === 'string' && /^\/[^\s]*$/.test(v) ? undefined : 'must be an absolute znode path'), doc: 'Root znode of the cluster state' },
  'storm.zookeeper.session.timeout': { default: 20000, check: int(1000, 600000), doc: 'ZooKeeper session timeout (ms)' },
  'storm.zookeeper.connection.timeout': { default: 15000, check: int(100, 600000), doc: 'ZooKeeper connect timeout (ms)' },
  'storm.local.dir': { default: 'squall-local', check: str, doc: 'Data directory (bundles, supervisor id, worker caches)' },
  'squall.state.dir': {
    default: null,
    check: nullable(str),
    doc: 'Directory of the embedded (sqlite) state backend on this machine (default <storm.local.dir>/state); give every supervisor of one machine the same one',
  },
  'squall.log.level': { default: 'info', check: level, doc: 'Log level of daemons and workers' },
  'nimbus.host': { default: '127.0.0.1', check: str, doc: 'Where the CLI and supervisors reach Nimbus' },
  'nimbus.port': { default: 6627, check: int(0, 65535), doc: "Nimbus's REST port (0: any free port)" },
  'nimbus.bind.host': { default: '127.0.0.1', check: str, doc: 'Address Nimbus listens on; beyond loopback needs nimbus.auth.token' },
  'nimbus.auth.token': { default: null, check: nullable(str), doc: 'Bearer token for submissions, mutating REST calls and bundle downloads' },
  'nimbus.task.timeout.secs': { default: 30, check: positive, doc: 'A worker that has not heartbeated for this long is considered dead and rescheduled' },
  'nimbus.task.launch.secs': { default: 120, check: positive, doc: 'Grace for a newly assigned worker to heartbeat for the first time' },
  'nimbus.supervisor.timeout.secs': { default: 60, check: positive, doc: 'Informational: supervisors are dead when their ephemeral node goes (ZooKeeper session)' },
  'nimbus.monitor.freq.secs': { default: 10, check: positive, doc: 'How often Nimbus checks heartbeats, pending kills/rebalances and schedules' },
  'nimbus.bundle.max.bytes': { default: 64 << 20, check: int(1024, 1 << 30), doc: 'Largest bundle accepted' },
  'nimbus.request.max.bytes': { default: 1 << 20, check: int(1024, 1 << 30), doc: 'Largest non-bundle REST body accepted' },
  'nimbus.bundle.probe.timeout.secs': { default: 30, check: positive, doc: 'Time allowed to load a submitted bundle and read its topology' },
  'supervisor.slots.ports': { default: [6700, 6701, 6702, 6703], check: ports, doc: 'One worker slot per port' },
  'supervisor.host': { default: '127.0.0.1', check: str, doc: 'Address other workers use to reach this machine\'s workers' },
  'supervisor.id': { default: null, check: nullable(str), doc: 'Stable supervisor id (default: generated once and kept in storm.local.dir)' },
  'supervisor.heartbeat.frequency.secs': { default: 5, check: positive, doc: 'How often the supervisor refreshes its node' },
  'supervisor.monitor.frequency.secs': { default: 3, check: positive, doc: 'How often slots are checked' },
  'supervisor.worker.timeout.secs': { default: 30, check: positive, doc: 'A worker silent for this long is killed and restarted' },
  'supervisor.worker.start.timeout.secs': { default: 120, check: positive, doc: 'Time a worker has to load its bundle and report ready' },
  'supervisor.worker.shutdown.sleep.secs': { default: 3, check: positive, doc: 'Grace between SIGTERM and SIGKILL when stopping a worker' },
  'supervisor.worker.restart.backoff.max.secs': { default: 30, check: positive, doc: 'Cap of the exponential backoff between restarts of a failing worker' },
  'worker.heartbeat.frequency.secs': { default: 1, check: positive, doc: 'How often workers send heartbeats and stats' },
  'worker.frame.max.bytes': { default: 16 << 20, check: int(1024, 1 << 30), doc: 'Largest frame accepted on a worker link' },
  'worker.log.max.bytes': { default: 64 << 20, check: int(4096, 2 ** 40), doc: "A worker's log file is rotated once it reaches this size" },
  'worker.log.max.files': { default: 5, check: int(1, 100), doc: "Log files kept per worker slot (the current one and rotated ones)" },
  'logviewer.port': { default: 0, check: int(0, 65535), doc: "Port of the supervisor's log server (Storm's logviewer); 0: any free port, registered in cluster state" },
  'logviewer.bind.host': { default: '127.0.0.1', check: str, doc: 'Address the log server listens on; beyond loopback needs nimbus.auth.token' },
};

export function daemonConfigProblems(conf: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [key, value] of Object.entries(conf)) {
    const spec = DAEMON_CONFIG_SPEC[key];
    if (!spec) {
      if (!key.startsWith('topology.')) problems.push(`unknown key "${key}"`);
      continue;
    }
    const why = spec.check(value);
    if (why) problems.push(`"${key}" ${why} (got ${JSON.stringify(value)})`);
  }
  return problems;
}

/** Layers (defaults < file < flags), validated once, frozen. `topology.*` keys pass through as topology defaults. */
export function resolveDaemonConfig(...layers: Array<Record<string, unknown> | undefined>): DaemonConfig {
  const merged: Record<string, unknown> = {};
  for (const l of layers) if (l) for (const [k, v] of Object.entries(l)) if (v !== undefined) merged[k] = v;
  const problems = daemonConfigProblems(merged);
  if (problems.length > 0) throw problemsError('ERR_CONFIG_INVALID', 'daemon configuration', problems);
  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(DAEMON_CONFIG_SPEC)) out[k] = spec.default;
  Object.assign(out, merged);
  return Object.freeze(out);
}

/** Typed reads of a resolved config (the keys exist: defaults are filled in). */
export const cfg = {
  num: (c: DaemonConfig, key: string): number => c[key] as number,
  str: (c: DaemonConfig, key: string): string => c[key] as string,
  strOrNull: (c: DaemonConfig, key: string): string | null => (c[key] as string | null) ?? null,
  list: <T>(c: DaemonConfig, key: string): T[] => c[key] as T[],
  secsToMs: (c: DaemonConfig, key: string): number => (c[key] as number) * 1000,
};

/** The embedded state backend's directory on this machine: squall.state.dir or <storm.local.dir>/state. */
export function stateDir(c: DaemonConfig): string {
  return path.resolve(cfg.strOrNull(c, 'squall.state.dir') ?? path.join(cfg.str(c, 'storm.local.dir'), 'state'));
}

/** `host:port,host:port` for node-zookeeper-client from storm.zookeeper.servers/port. */
export function zookeeperConnectString(c: DaemonConfig): string {
  const port = c['storm.zookeeper.port'] as number;
  return (c['storm.zookeeper.servers'] as string[]).map((h) => (h.includes(':') ? h : `${h}:${port}`)).join(',');
}

/** True when an address is loopback only. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
