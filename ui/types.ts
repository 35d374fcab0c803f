/**
 * The REST shapes the pages read: Nimbus's types (common/protocol/rest.ts) plus the optional
 * fields a page shows only when present (stats windows and percentiles, the per-executor figures of
 * async, windowed and stateful bolts, user metrics, visualization rates), so the UI also works
 * against a Nimbus that does not send them.
 */
import type { ComponentPage, ExecutorEntry, SpoutEntry, BoltEntry, TopologyPage, VisualizationPage } from '../common/protocol/rest';

export const STATS_WINDOWS: ReadonlyArray<{ window: string; windowPretty: string }> = [
  { window: '600', windowPretty: '10m 0s' },
  { window: '10800', windowPretty: '3h 0m 0s' },
  { window: '86400', windowPretty: '1d 0h 0m 0s' },
  { window: ':all-time', windowPretty: 'All time' },
];

export interface Extras {
  inflight?: number;
  asyncTimedOut?: number;
  windows?: { open: number; buffered: number; watermarkMs: number | null; late: number; lateDropped: number };
  checkpoint?: { txid: number; durationMs: number; sizeBytes: number; alignmentMs: number; heldTuples: number; failed: number };
}

export type UserMetric =
  | { name: string; type: 'counter'; count: number }
  | { name: string; type: 'meter'; count: number; ratePerSec: number | null }
  | { name: string; type: 'histogram'; count: number; mean: number; max: number; p50: number; p90: number; p99: number; p999: number }
  | { name: string; type: 'gauge'; value: number; min: number; max: number; mean: number; tasks: number };

export interface WindowRow {
  window: string;
  windowPretty: string;
  emitted: number;
  transferred: number;
  acked: number;
  failed: number;
  completeLatency: string;
  executed?: number;
  executeLatency?: string;
  processLatency?: string;
  capacity?: string;
}

export type Spout = SpoutEntry;
export type Bolt = BoltEntry & Extras & { backpressureMs?: number };

export type Topology = Omit<TopologyPage, 'topologyStats' | 'bolts'> & {
  window?: string;
  windowPretty?: string;
  topologyStats: WindowRow[];
  bolts: Bolt[];
};

export type Executor = ExecutorEntry & Extras & { backpressureMs?: number; metrics?: UserMetric[] };

export interface LatencyDistribution {
  kind: 'complete' | 'execute';
  count: number;
  buckets: Array<{ upperMs: number; count: number }>;
}

export type Component = Omit<ComponentPage, 'executorStats' | 'inputStats' | 'outputStats'> &
  Extras & {
    window?: string;
    windowPretty?: string;
    spoutSummary?: WindowRow[];
    boltStats?: WindowRow[];
    executorStats: Executor[];
    inputStats?: Array<{ component: string; stream: string; grouping: string; executed?: number; acked?: number; failed?: number }>;
    outputStats?: Array<{ stream: string; fields: string[]; direct: boolean; emitted?: number; transferred?: number }>;
    metrics?: UserMetric[];
    latencyDistribution?: LatencyDistribution;
  };

type VisComponent = VisualizationPage['components'][string];
export interface Visualization {
  rateWindowSecs?: number;
  components: Record<
    string,
    Omit<VisComponent, 'inputs'> & {
      inputs: Array<{ component: string; stream: string; grouping: string; tuplesPerSec?: number }>;
      emittedPerSec?: number;
      streams?: Record<string, number>;
      capacity?: string;
      latency?: string;
    }
  >;
}
