/**
 * Submission checks of `topology.processing.guarantee` and checkpointed topologies (plain data:
 * no user code runs). Nimbus runs them on every submission, which covers `squall local` too
 * (LocalCluster submits to a real Nimbus).
 */
import { Config, problemsError, type TopologyConfig, type TopologyDefinition } from '../topology-api';
import { checkpointing, processingGuarantee } from './topology-layout';

/**
 * A keyed stateful bolt: stateful, and every input a fields grouping. Its state is split into key
 * groups (one namespace for the component, each task over its range of key groups), tuples reach
 * it by key group, and a rebalance may change its number of tasks (docs/state.md, "Rescaling").
 */
export function isKeyedStateful(def: TopologyDefinition, id: string): boolean {
  const bolt = def.bolts[id];
  return bolt !== undefined && bolt.stateful === true && bolt.inputs.length > 0 && bolt.inputs.every((i) => i.grouping.type === 'fields');
}

/** Keyed stateful bolts → the most tasks a rebalance may give them (their key groups). */
export function rescalableComponents(def: TopologyDefinition, conf: TopologyConfig): Record<string, number> {
  const out: Record<string, number> = {};
  if (!checkpointing(def, conf)) return out;
  for (const id of Object.keys(def.bolts)) if (isKeyedStateful(def, id)) out[id] = maxKeyGroups(conf);
  return out;
}

/** `topology.state.max.key.groups`. */
export function maxKeyGroups(conf: TopologyConfig): number {
  const v = conf[Config.TOPOLOGY_STATE_MAX_KEY_GROUPS];
  return typeof v === 'number' ? v : 128;
}

/** Components on a cycle of subscriptions (a bolt that feeds itself, directly or not). */
function cyclic(def: TopologyDefinition): string[] {
  const state = new Map<string, 1 | 2>();
  const out = new Set<string>();
  const visit = (id: string, path: string[]): void => {
    if (state.get(id) === 2) return;
    if (state.get(id) === 1) {
      for (const c of path.slice(path.indexOf(id))) out.add(c);
      return;
    }
    state.set(id, 1);
    for (const input of def.bolts[id]?.inputs ?? []) visit(input.component, [...path, id]);
    state.set(id, 2);
  };
  for (const id of Object.keys(def.bolts).sort()) visit(id, []);
  return [...out].sort();
}

/**
 * Throws ERR_SPOUT_NOT_REPLAYABLE when exactly-once is asked of a spout that cannot rewind, and
 * ERR_TOPOLOGY_INVALID for what checkpoints cannot run on (each listing every problem).
 */
export function checkGuarantee(def: TopologyDefinition, conf: TopologyConfig): void {
  const guarantee = processingGuarantee(conf);
  if (guarantee === 'exactly-once') {
    const plain = Object.keys(def.spouts)
      .filter((id) => def.spouts[id].replayable !== true)
      .sort();
    if (plain.length > 0) {
      throw problemsError(
        'ERR_SPOUT_NOT_REPLAYABLE',
        'exactly-once needs spouts that can rewind',
        plain.map((id) => `spout "${id}" has no offsets()/seek(): it cannot rewind to a checkpoint (use at-least-once, or a replayable spout)`),
      );
    }
  }
  if (!checkpointing(def, conf)) return;
  const problems: string[] = [];
  const loop = cyclic(def);
  if (loop.length > 0) problems.push(`checkpoint barriers cannot be aligned around a cycle: ${loop.map((c) => `"${c}"`).join(', ')} feed themselves`);
  const timeoutSecs = conf[Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS];
  const intervalMs = conf[Config.TOPOLOGY_STATE_CHECKPOINT_INTERVAL];
  if (guarantee === 'at-least-once' && conf[Config.TOPOLOGY_ENABLE_MESSAGE_TIMEOUTS] !== false && typeof timeoutSecs === 'number' && typeof intervalMs === 'number' && intervalMs >= timeoutSecs * 1000) {
    // a stateful bolt acks its inputs when the checkpoint holding them commits (as in Storm)
    problems.push(`"${Config.TOPOLOGY_STATE_CHECKPOINT_INTERVAL}" (${intervalMs}) must be shorter than "${Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS}" (${timeoutSecs} s): inputs of stateful bolts are acked when their checkpoint commits`);
  }
  const max = maxKeyGroups(conf);
  for (const id of Object.keys(def.bolts).sort()) {
    if (isKeyedStateful(def, id) && def.bolts[id].numTasks > max) problems.push(`keyed stateful bolt "${id}" has ${def.bolts[id].numTasks} tasks, more than "${Config.TOPOLOGY_STATE_MAX_KEY_GROUPS}" (${max}) key groups`);
  }
  if (problems.length > 0) throw problemsError('ERR_TOPOLOGY_INVALID', 'checkpointed topology', problems);
}
