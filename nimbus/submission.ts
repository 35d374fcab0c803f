/** Submission checks and the record a submission creates (pure; Nimbus does the I/O). */
import { NODE_DATA_BYTES_MAX } from '../common/cluster-state/store';
import type { TopologyRecord } from '../common/cluster-state/types';
import type { DaemonConfig } from '../common/config';
import { problemsError, squallError } from '../common/errors';
import { Config, resolveTopologyConfig, topologyConfigProblems, topologyProblems, windowTimeoutShortfalls, type TopologyConfig } from '../common/topology';
import { initialExecutors } from '../common/topology-layout';
import { checkGuarantee } from '../common/guarantees';
import type { ProbedTopology } from './bundle-probe';
import { checkTopologyName } from './names';

const OWNER_MAX_CHARS = 100;

/** What can be checked before the bundle is stored and probed: the name and the overrides. */
export function checkSubmission(name: unknown, overrides: unknown): void {
  checkTopologyName(name);
  if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) throw squallError('ERR_CONFIG_INVALID', 'the submitted configuration must be an object');
  const problems = topologyConfigProblems(overrides as TopologyConfig);
  if (problems.length > 0) throw problemsError('ERR_CONFIG_INVALID', 'topology configuration', problems);
}

export interface DraftArgs {
  name: string;
  probed: ProbedTopology;
  overrides: TopologyConfig;
  owner: string | undefined;
  bundleHash: string;
  bundleBytes: number;
  daemonConfig: DaemonConfig;
  linkSecret: string;
}

/**
 * The topology record of a submission, without its id and launch time (Nimbus sets those when it
 * writes it). Validates the definition (ERR_TOPOLOGY_INVALID) and resolves the configuration:
 * cluster `topology.*` defaults < the bundle's config < submit overrides, plus `topology.name`
 * (ERR_CONFIG_INVALID), each listing every problem.
 */
export function draftRecord(args: DraftArgs): TopologyRecord {
  const problems = topologyProblems(args.probed.definition);
  if (problems.length > 0) throw problemsError('ERR_TOPOLOGY_INVALID', 'topology', problems);
  const clusterDefaults: TopologyConfig = {};
  for (const [k, v] of Object.entries(args.daemonConfig)) if (k.startsWith('topology.')) clusterDefaults[k] = v;
  const config = resolveTopologyConfig(clusterDefaults, args.probed.config, args.overrides, { [Config.TOPOLOGY_NAME]: args.name });
  checkWindowTimeouts(args.probed.definition, config);
  checkGuarantee(args.probed.definition, config);
  const owner = args.owner;
  const record: TopologyRecord = {
    v: 1,
    id: '',
    name: args.name,
    status: 'ACTIVE',
    launchTimeMs: 0,
    owner: typeof owner === 'string' && owner.length > 0 ? owner.slice(0, OWNER_MAX_CHARS) : 'anonymous',
    bundleHash: args.bundleHash,
    bundleBytes: args.bundleBytes,
    definition: args.probed.definition,
    config: { ...config },
    numWorkers: config[Config.TOPOLOGY_WORKERS] as number,
    componentExecutors: initialExecutors(args.probed.definition, config),
    pending: null,
    linkSecret: args.linkSecret,
  };
  // The id adds a few dozen bytes: leave room.
  const bytes = Buffer.byteLength(JSON.stringify(record));
  if (bytes > NODE_DATA_BYTES_MAX - 1024) {
    throw squallError('ERR_TOPOLOGY_INVALID', `the definition and configuration take ${bytes} bytes, over the cluster-state limit of ${NODE_DATA_BYTES_MAX}`);
  }
  return record;
}

/**
 * Storm's check: a windowed bolt's tuples are acked only when they leave their last window, so a
 * message timeout shorter than the window would fail (and replay) every tuple it holds.
 */
function checkWindowTimeouts(definition: ProbedTopology['definition'], config: TopologyConfig): void {
  const short = windowTimeoutShortfalls(definition, config);
  if (short.length === 0) return;
  const problems = short.map(
    (s) =>
      `bolt "${s.bolt}" holds tuples up to ${s.holdMs} ms (window length + slide, plus lag and allowed lateness in event time), ` +
      `${s.holdMs - s.timeoutMs} ms longer than ${Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS} (${s.timeoutMs / 1000} s) lets a tuple wait: ` +
      `set it to at least ${Math.ceil(s.holdMs / 1000)}`,
  );
  throw squallError('ERR_WINDOW_OUTLASTS_TIMEOUT', problems.join('; '), { problems });
}

/** Bundles uploaded by submissions still in progress, which must not be deleted as unused. */
export class BundleClaims {
  private readonly counts = new Map<string, number>();

  claim(hash: string): void {
    this.counts.set(hash, (this.counts.get(hash) ?? 0) + 1);
  }

  release(hash: string): void {
    const left = (this.counts.get(hash) ?? 1) - 1;
    if (left > 0) this.counts.set(hash, left);
    else this.counts.delete(hash);
  }

  has(hash: string): boolean {
    return this.counts.has(hash);
  }
}
