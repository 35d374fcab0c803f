/**
 * Figures of Nimbus's REST answers as the pages show them (pure; unit-tested): latency
 * percentiles beside Storm's mean fields, and an edge's width for its rate.
 */
import { num } from './format';

export type LatencyKind = 'complete' | 'execute' | 'process';

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

export const PERCENTILE_KEYS: ReadonlyArray<[keyof Percentiles, string]> = [
  ['p50', 'p50'],
  ['p90', 'p90'],
  ['p99', 'p99'],
  ['p999', 'p99.9'],
];

function fromObject(o: Record<string, unknown>): Percentiles | null {
  const pick = (...names: string[]): number => {
    for (const n of names) if (n in o) return num(o[n]);
    return Number.NaN;
  };
  const p: Percentiles = { p50: pick('p50', '50'), p90: pick('p90', '90'), p99: pick('p99', '99'), p999: pick('p999', 'p99.9', '99.9') };
  return Object.values(p).some((v) => Number.isFinite(v)) ? p : null;
}

/**
 * The latency percentiles (ms) of a REST row, if it has them: either an object
 * `<kind>LatencyPercentiles: {p50, p90, p99, p999}` or flat fields `<kind>LatencyP50` ... `P999`.
 */
export function latencyPercentiles(row: unknown, kind: LatencyKind): Percentiles | null {
  if (typeof row !== 'object' || row === null) return null;
  const r = row as Record<string, unknown>;
  const nested = r[`${kind}LatencyPercentiles`];
  if (typeof nested === 'object' && nested !== null) return fromObject(nested as Record<string, unknown>);
  const flat: Record<string, unknown> = {};
  for (const [k] of PERCENTILE_KEYS) {
    const v = r[`${kind}Latency${k.toUpperCase()}`];
    if (v !== undefined) flat[k] = v;
  }
  return Object.keys(flat).length > 0 ? fromObject(flat) : null;
}

/** Stroke width for a rate: 1.2 px idle, growing with its logarithm, at most 8 px. */
export function edgeWidth(perSec: number | null): number {
  if (perSec === null || !(perSec > 0)) return 1.2;
  return Math.min(8, 1.2 + 1.3 * Math.log10(1 + perSec));
}
