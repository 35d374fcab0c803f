/**
 * The REST shapes the pages read (common/protocol/rest.ts), under short names. Optional figures
 * (`windows`, `checkpoint`, `inflight`, `asyncTimedOut`, user metrics) are shown only when present.
 */
import type {
  BoltEntry,
  ComponentExtras,
  ComponentPage,
  ComponentWindowStats,
  ExecutorEntry,
  LatencyDistribution as RestLatencyDistribution,
  SpoutEntry,
  StatsWindowId,
  TopologyPage,
  VisualizationPage,
  WindowStats,
} from '../common/protocol/rest';

/**
 * Storm UI's windows, in its order. (Nimbus's own list lives beside its parser; the UI keeps this
 * copy so the browser bundle does not pull in the server's error table.)
 */
export const STATS_WINDOWS: ReadonlyArray<{ window: StatsWindowId; windowPretty: string }> = [
  { window: '600', windowPretty: '10m 0s' },
  { window: '10800', windowPretty: '3h 0m 0s' },
  { window: '86400', windowPretty: '1d 0h 0m 0s' },
  { window: ':all-time', windowPretty: 'All time' },
];

export type Extras = ComponentExtras;
export type UserMetric = ComponentPage['metrics'][number];
export type TopologyWindowRow = WindowStats;
export type ComponentWindowRow = ComponentWindowStats;
export type Spout = SpoutEntry;
export type Bolt = BoltEntry;
export type Topology = TopologyPage;
export type Executor = ExecutorEntry;
export type Component = ComponentPage;
export type LatencyDistribution = RestLatencyDistribution;
export type Visualization = VisualizationPage;
