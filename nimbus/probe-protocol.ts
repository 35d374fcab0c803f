/**
 * The one message a bundle probe child (probe-main.ts) sends Nimbus over the IPC channel. Plain
 * JSON; anything else the child sends first (user code may call `process.send`) is a failure.
 */
import type { TopologyConfig, TopologyDefinition } from '../common/topology';

export type ProbeMessage =
  | { type: 'topology'; definition: TopologyDefinition; config: TopologyConfig }
  | { type: 'error'; code: string; message: string; problems: string[] };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The message if it has the protocol's shape, else null. The definition itself is validated later. */
export function parseProbeMessage(value: unknown): ProbeMessage | null {
  if (!isObject(value)) return null;
  if (value.type === 'topology') {
    const def = value.definition;
    if (!isObject(def) || !isObject(def.spouts) || !isObject(def.bolts) || !isObject(value.config)) return null;
    return { type: 'topology', definition: def as unknown as TopologyDefinition, config: value.config };
  }
  if (value.type === 'error') {
    if (typeof value.code !== 'string' || typeof value.message !== 'string') return null;
    const problems = Array.isArray(value.problems) ? value.problems.filter((p): p is string => typeof p === 'string') : [];
    return { type: 'error', code: value.code, message: value.message, problems };
  }
  return null;
}
