import type { TopologyConfig, TopologyDefinition } from '../../topology-api';
import { isKeyedStateful, maxKeyGroups } from '../../common/guarantees';
import { allKeyGroups, keyGroupRange, keyGroupsOf } from '../state/key-groups';
import type { StateRef } from './state-access';

/**
 * The state a task opens. Keyed stateful bolts share one namespace per component, each task over
 * its range of key groups, so a rescale moves whole key groups between tasks; every other task has
 * a namespace of its own (docs/state.md). Scoped to the topology's name.
 */
export function taskStateRef(def: TopologyDefinition, conf: Readonly<TopologyConfig>, topologyName: string, component: string, taskIndex: number, taskCount: number): StateRef {
  if (!isKeyedStateful(def, component)) return { namespace: `${topologyName}/${component}/${taskIndex}` };
  const max = maxKeyGroups(conf);
  return { namespace: `${topologyName}/${component}`, keyGroups: keyGroupsOf(keyGroupRange(taskIndex, taskCount, max)), maxKeyGroups: max };
}

/** The whole state of a keyed stateful bolt (every key group): what tests and tools read. */
export function componentStateRef(conf: Readonly<TopologyConfig>, topologyName: string, component: string): StateRef {
  return { namespace: `${topologyName}/${component}`, keyGroups: allKeyGroups(maxKeyGroups(conf)), maxKeyGroups: maxKeyGroups(conf) };
}
