/** `squall/local`: run topologies in this process, and test them (Storm's LocalCluster and Testing). */
export { LocalCluster, type LocalClusterOptions } from './local-cluster';
export { completeTopology, type CompleteTopologyOptions, type CompleteTopologyResult, type MockedSources } from './testing';
export type { TopologyInfo } from './topology-info';
export { ManualClock, SystemClock, type Clock } from '../common/clock';
