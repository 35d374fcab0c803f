import type { OutputCollector, Tuple, TupleImpl } from '../../topology-api';

/**
 * Storm's WindowedOutputCollector: while a window fires, an emit without anchors is anchored to
 * every tuple of the window (so a failure downstream replays the window's inputs). Explicit
 * anchors are used as given; `null` emits unanchored.
 */
export class WindowCollector implements OutputCollector {
  /** The tuples of the window being executed; null outside `execute(window)`. */
  window: TupleImpl[] | null = null;

  constructor(private readonly out: OutputCollector) {}

  emit(values: unknown[], anchors?: Tuple | readonly Tuple[] | null, streamId?: string): number[] {
    return this.out.emit(values, anchors === undefined ? this.window : anchors, streamId);
  }
  emitDirect(taskId: number, values: unknown[], anchors?: Tuple | readonly Tuple[] | null, streamId?: string): void {
    this.out.emitDirect(taskId, values, anchors === undefined ? this.window : anchors, streamId);
  }
  ack(input: Tuple): void {
    this.out.ack(input);
  }
  fail(input: Tuple): void {
    this.out.fail(input);
  }
  resetTimeout(input: Tuple): void {
    this.out.resetTimeout(input);
  }
  reportError(error: unknown): void {
    this.out.reportError(error);
  }
}
