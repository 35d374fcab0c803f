import { SYSTEM_COMPONENT_ID, SYSTEM_TICK_STREAM_ID } from './constants';
import type { Tuple } from './tuple';

/** Storm's `TupleUtils`. */
export const TupleUtils = {
  /** True for the tick tuples sent every `topology.tick.tuple.freq.secs`. */
  isTick(tuple: Tuple): boolean {
    return tuple.getSourceComponent() === SYSTEM_COMPONENT_ID && tuple.getSourceStreamId() === SYSTEM_TICK_STREAM_ID;
  },
};
