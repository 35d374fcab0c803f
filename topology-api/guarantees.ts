/**
 * Duck-typed recognition of the components the checkpoint runtime treats specially. A bundle
 * carries its own copy of this API, so classes are recognised by their methods, never by
 * `instanceof` (docs/writing-topologies.md).
 */
import { isStatefulBolt } from './state/stateful-bolt';
import { isWindowedBoltHolder } from './windowing/windowed-bolt';

/**
 * A bolt whose state the runtime checkpoints: Storm's `IStatefulBolt` (a BaseStatefulBolt, or
 * anything with `initState`).
 */
export function isStatefulComponent(component: unknown): boolean {
  // a stateful windowed bolt reaches the builder's probe inside its windowing holder
  if (isWindowedBoltHolder(component)) return isStatefulComponent(component.bolt);
  return isStatefulBolt(component) || (typeof component === 'object' && component !== null && typeof (component as { initState?: unknown }).initState === 'function');
}
