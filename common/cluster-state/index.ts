export * from './types';
export * from './store';
export { MemoryStateServer, MemoryStateStore } from './memory-store';
export { ZkStateStore, type ZkStateStoreOptions } from './zk-store';
export { DEFAULT_STATE_ROOT, statePaths, type StatePaths } from './paths';
export { ClusterState, STATE_RECORD_VERSION, type ClusterStateOptions, type ComponentErrorsRecord } from './cluster-state';
