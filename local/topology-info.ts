import type { ComponentError, ExecutorStats, TopologyStatus } from '../common/cluster-state/types';
import { summarizeComponents, topologyTotals, type ComponentSummary, type TopologyTotals } from '../common/stats-summary';
import { ACKER_COMPONENT_ID, CHECKPOINT_COMPONENT_ID, type TopologyDefinition } from '../topology-api';
import type { TopologyLayout } from '../common/topology-layout';
import { checkpointSummary, type CheckpointSummary } from '../common/checkpoint-stats';

/** What `LocalCluster.getTopologyInfo` answers: Storm's TopologyInfo, flattened. */
export interface TopologyInfo {
  id: string;
  name: string;
  status: TopologyStatus;
  uptimeSecs: number;
  numWorkers: number;
  numExecutors: number;
  numTasks: number;
  topologyStats: TopologyTotals;
  spouts: ComponentSummary[];
  bolts: ComponentSummary[];
  errors: Record<string, ComponentError[]>;
  /** Raw per-executor stats. */
  executors: ExecutorStats[];
  /** Checkpointed topologies: the last committed checkpoint (docs/state.md). */
  checkpoint?: CheckpointSummary;
}

export function buildTopologyInfo(args: {
  id: string;
  name: string;
  status: TopologyStatus;
  uptimeSecs: number;
  numWorkers: number;
  definition: TopologyDefinition;
  layout: TopologyLayout;
  stats: ExecutorStats[];
  errors: Record<string, ComponentError[]>;
}): TopologyInfo {
  const { definition, layout } = args;
  const executorsOf = (id: string): number => layout.executors.filter((e) => e.component === id).length;
  const describe = (id: string, type: 'spout' | 'bolt') => ({ id, type, executors: executorsOf(id), tasks: layout.componentTasks[id]?.length ?? 0 });
  const components = [
    ...Object.keys(definition.spouts).sort().map((id) => describe(id, 'spout')),
    ...Object.keys(definition.bolts).sort().map((id) => describe(id, 'bolt')),
  ];
  if (layout.ackerTasks.length > 0) components.push(describe(ACKER_COMPONENT_ID, 'bolt'));
  if (layout.coordinatorTask > 0) components.push(describe(CHECKPOINT_COMPONENT_ID, 'spout'));
  const summaries = summarizeComponents(args.stats, components, args.errors);
  const checkpoint = checkpointSummary(args.stats);
  return {
    ...(checkpoint !== null ? { checkpoint } : {}),
    id: args.id,
    name: args.name,
    status: args.status,
    uptimeSecs: args.uptimeSecs,
    numWorkers: args.numWorkers,
    numExecutors: layout.executors.length,
    numTasks: layout.taskComponent.length - 1,
    topologyStats: topologyTotals(summaries),
    spouts: summaries.filter((s) => s.type === 'spout'),
    bolts: summaries.filter((s) => s.type === 'bolt'),
    errors: args.errors,
    executors: args.stats,
  };
}
