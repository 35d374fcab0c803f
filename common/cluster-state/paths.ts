/**
 * Every node path of Squall's cluster state, and nothing else builds one (Storm's
 * `ClusterUtils`). All live under a root, `/squall` by default, so several clusters (or test
 * runs) can share one ZooKeeper; no chroot is involved.
 *
 *   <root>/topologies/<topologyId>                 TopologyRecord
 *   <root>/assignments/<topologyId>                Assignment
 *   <root>/supervisors/<supervisorId>              SupervisorInfo (ephemeral)
 *   <root>/workerbeats/<topologyId>/<node>-<port>  WorkerBeat
 *   <root>/errors/<topologyId>/<component>         newest errors of a component
 *   <root>/nimbus                                  NimbusInfo (ephemeral)
 */
import { squallError } from '../errors';
import { childPath, validatePath } from './store';

export const DEFAULT_STATE_ROOT = '/squall';

export interface StatePaths {
  readonly root: string;
  topologies(): string;
  topology(topologyId: string): string;
  assignments(): string;
  assignment(topologyId: string): string;
  supervisors(): string;
  supervisor(supervisorId: string): string;
  workerBeatsRoot(): string;
  workerBeats(topologyId: string): string;
  workerBeat(topologyId: string, node: string, port: number): string;
  /** A child name listed under `workerBeats(topologyId)`. */
  workerBeatNamed(topologyId: string, name: string): string;
  errorsRoot(): string;
  topologyErrors(topologyId: string): string;
  componentErrors(topologyId: string, component: string): string;
  nimbus(): string;
}

/** The paths under `root` (an absolute path; '/' puts the tree at ZooKeeper's top level). */
export function statePaths(root: string = DEFAULT_STATE_ROOT): StatePaths {
  validatePath(root);
  const under = (...segments: string[]): string => {
    const path = segments.reduce((parent, s) => childPath(parent, segment(s)), root);
    validatePath(path);
    return path;
  };
  return {
    root,
    topologies: () => under('topologies'),
    topology: (topologyId) => under('topologies', topologyId),
    assignments: () => under('assignments'),
    assignment: (topologyId) => under('assignments', topologyId),
    supervisors: () => under('supervisors'),
    supervisor: (supervisorId) => under('supervisors', supervisorId),
    workerBeatsRoot: () => under('workerbeats'),
    workerBeats: (topologyId) => under('workerbeats', topologyId),
    workerBeat: (topologyId, node, port) => under('workerbeats', topologyId, `${segment(node)}-${portNumber(port)}`),
    workerBeatNamed: (topologyId, name) => under('workerbeats', topologyId, name),
    errorsRoot: () => under('errors'),
    topologyErrors: (topologyId) => under('errors', topologyId),
    componentErrors: (topologyId, component) => under('errors', topologyId, component),
    nimbus: () => under('nimbus'),
  };
}

/** An id used as one path segment: non-empty, no '/', not '.' or '..' (the rest: validatePath). */
function segment(value: string): string {
  if (typeof value !== 'string' || value === '' || value === '.' || value === '..' || value.includes('/')) {
    throw squallError('ERR_STATE_STORE', `invalid cluster-state id ${JSON.stringify(value)}: must be a non-empty name without '/'`);
  }
  return value;
}

function portNumber(port: number): number {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw squallError('ERR_STATE_STORE', `invalid worker port ${String(port)}`);
  return port;
}
