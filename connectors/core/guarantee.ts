import type { TopologyConfig } from '../../topology-api';

/** `topology.processing.guarantee` (ARCHITECTURE.md): one choice per topology. */
export type Guarantee = 'at-most-once' | 'at-least-once' | 'exactly-once';

/** The config key (Storm has none; the name follows Flink and Kafka Streams). */
export const PROCESSING_GUARANTEE = 'topology.processing.guarantee';

/**
 * The guarantee a connector runs with: `topology.processing.guarantee` when set, else
 * at-least-once (the acker, Squall's default). With `topology.acker.executors: 0` nothing is
 * tracked, so an at-least-once spout's tuples are acknowledged right after they are emitted.
 */
export function guaranteeOf(conf: Readonly<TopologyConfig>): Guarantee {
  const g = conf[PROCESSING_GUARANTEE];
  return g === 'at-most-once' || g === 'exactly-once' ? g : 'at-least-once';
}
