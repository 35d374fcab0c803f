/**
 * What the daemons (Nimbus, supervisors) need of the topology API: plain-data validation and
 * config resolution, re-exported so they import `common` only. No user code runs through these.
 */
export {
  ACKER_COMPONENT_ID,
  CHECKPOINT_COMPONENT_ID,
  Config,
  TOPOLOGY_CONFIG_SPEC,
  componentIds,
  getComponent,
  resolveTopologyConfig,
  topologyConfigProblems,
  topologyProblems,
  windowTimeoutShortfalls,
  type ComponentDefinition,
  type GroupingSpec,
  type TopologyConfig,
  type TopologyDefinition,
} from '../topology-api';
