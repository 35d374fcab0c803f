import type { ISpout } from '../components';

/**
 * A spout that can rewind (exactly-once): `offsets()` is its position after everything it has
 * emitted so far (plain, msgpack-able data), captured at a checkpoint barrier; `seek(offsets)`
 * rewinds to a position captured earlier, or to its configured start when given `null`.
 *
 * Under at-least-once a restarted task is sought to the offsets of the last committed checkpoint
 * too, and its predecessor's pending tuples (and their replays) are gone: there `offsets()` must
 * be the position before its earliest tuple not yet acked (the contiguous acked prefix, as
 * Storm's KafkaSpout commits), or a tuple that failed or was in flight when the task died is
 * never emitted again (GeneratorSpout does this).
 */
export interface IReplayableSpout extends ISpout {
  offsets(): unknown;
  seek(offsets: unknown | null): void;
}

/** Duck-typed (a bundle carries its own copy of the API). */
export function isReplayableSpout(spout: unknown): spout is IReplayableSpout {
  if (typeof spout !== 'object' || spout === null) return false;
  const s = spout as Record<string, unknown>;
  return typeof s.offsets === 'function' && typeof s.seek === 'function';
}
