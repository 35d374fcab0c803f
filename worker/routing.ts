import { Fields, squallError, type TupleImpl } from '../topology-api';
import type { StreamInfo } from '../common/topology-layout';
import type { Grouper } from './groupings';
import type { AckKind } from './queues';

/** A queue a producer feeds; producers are parked while any of theirs is full. */
export interface Backpressured {
  isFull(): boolean;
}

/** Where tuples and acker messages go: the worker's local inboxes or its links to other workers. */
export interface Delivery {
  sendTuple(task: number, tuple: TupleImpl): void;
  sendAck(kind: AckKind, destTask: number, root: number, hi: number, lo: number, spoutTask: number): void;
  /** The acker task tracking `root`; 0 when acking is off. */
  ackerFor(root: number): number;
  /** The queue tuples for `task` enter first (a local inbox or a remote link's outbox). */
  queueFor(task: number): Backpressured;
}

/** One subscription of one output stream, from one source task's point of view. */
export interface Subscription {
  component: string;
  /** null for direct grouping (only emitDirect reaches it). */
  grouper: Grouper | null;
  tasks: readonly number[];
}

/** An output stream of a source task, with everything emit needs precomputed. */
export class OutStream {
  readonly fields: Fields;
  readonly arity: number;
  readonly direct: boolean;
  readonly id: string;
  readonly index: number;
  /** Tasks reachable with emitDirect: those subscribing with direct grouping. */
  readonly directTasks: ReadonlySet<number>;

  constructor(
    info: StreamInfo,
    readonly subscriptions: readonly Subscription[],
  ) {
    this.fields = new Fields(info.fields);
    this.arity = info.fields.length;
    this.direct = info.direct;
    this.id = info.stream;
    this.index = info.index;
    const direct = new Set<number>();
    for (const s of subscriptions) if (s.grouper === null) for (const t of s.tasks) direct.add(t);
    this.directTasks = direct;
  }
}

export function undeclaredStream(component: string, streamId: unknown, declared: readonly string[]): Error {
  return squallError(
    'ERR_EMIT_UNDECLARED_STREAM',
    `component "${component}" emitted on stream ${JSON.stringify(streamId)}, which it does not declare (it declares ${declared.length ? declared.map((s) => `"${s}"`).join(', ') : 'none'})`,
  );
}

export function checkEmit(component: string, out: OutStream, values: unknown, direct: boolean): void {
  if (!Array.isArray(values)) throw squallError('ERR_EMIT_WRONG_ARITY', `component "${component}" stream "${out.id}": values must be an array, got ${typeof values}`);
  if (values.length !== out.arity) {
    throw squallError(
      'ERR_EMIT_WRONG_ARITY',
      `component "${component}" stream "${out.id}" declares ${out.arity} field(s) ${out.fields}, but ${values.length} value(s) were emitted`,
    );
  }
  if (out.direct !== direct) {
    throw squallError(
      'ERR_EMIT_DIRECT_INVALID',
      direct ? `component "${component}" used emitDirect on stream "${out.id}", which is not declared direct` : `component "${component}" stream "${out.id}" is direct: use emitDirect`,
    );
  }
}
