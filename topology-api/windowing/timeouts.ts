import { Config, type TopologyConfig } from '../config';
import type { TopologyDefinition } from '../definition';
import { isWindowedConfig, windowSpec, windowSpecProblems, type WindowSpec } from './spec';

/** How long a tuple can wait in this bolt's windows before it is acked (ms); null when unbounded or by count. */
export function windowHoldMs(spec: WindowSpec): number | null {
  if (spec.kind === 'session') return null; // a session lasts as long as its tuples keep coming
  if (spec.lengthMs === null) return null;
  const slide = spec.slideMs ?? 0;
  return spec.lengthMs + slide + (spec.eventTime ? spec.lagMs + spec.allowedLatenessMs : 0);
}

export interface WindowTimeoutShortfall {
  bolt: string;
  holdMs: number;
  timeoutMs: number;
}

/**
 * Windowed bolts whose tuples would time out before their window lets them go (Storm refuses the
 * same at submission): with acking and message timeouts on, `topology.message.timeout.secs` must
 * outlast length + slide (+ lag and allowed lateness in event time).
 */
export function windowTimeoutShortfalls(def: TopologyDefinition, conf: TopologyConfig): WindowTimeoutShortfall[] {
  if (conf[Config.TOPOLOGY_ACKER_EXECUTORS] === 0 || conf[Config.TOPOLOGY_ENABLE_MESSAGE_TIMEOUTS] === false) return [];
  const timeoutSecs = conf[Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS];
  if (typeof timeoutSecs !== 'number') return [];
  const timeoutMs = timeoutSecs * 1000;
  const out: WindowTimeoutShortfall[] = [];
  for (const [bolt, c] of Object.entries(def.bolts)) {
    const merged = { ...conf, ...c.config };
    if (!isWindowedConfig(merged) || windowSpecProblems(merged).length > 0) continue;
    const hold = windowHoldMs(windowSpec(merged));
    if (hold !== null && hold > timeoutMs) out.push({ bolt, holdMs: hold, timeoutMs });
  }
  return out;
}
