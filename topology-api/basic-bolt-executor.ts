import type { TopologyConfig } from './config';
import type { BasicOutputCollector, IBasicBolt, IBolt, MaybePromise, OutputCollector, OutputFieldsDeclarer, TopologyContext } from './components';
import { errorCode, squallError } from './errors';
import type { Tuple } from './tuple';

/**
 * The collector a basic bolt emits through: every emit is anchored to `input`. It refuses an emit
 * once `input` is acked or failed (ERR_EMIT_AFTER_SETTLE) instead of emitting unanchored: such an
 * emit would silently escape the tuple tree, so at-least-once would be lost.
 */
class AnchoringCollector implements BasicOutputCollector {
  input: Tuple | null = null;
  constructor(private readonly out: OutputCollector) {}
  emit(values: unknown[], streamId?: string): number[] {
    return this.out.emit(values, this.anchor(), streamId);
  }
  emitDirect(taskId: number, values: unknown[], streamId?: string): void {
    this.out.emitDirect(taskId, values, this.anchor(), streamId);
  }
  resetTimeout(input: Tuple): void {
    this.out.resetTimeout(input);
  }
  reportError(error: unknown): void {
    this.out.reportError(error);
  }

  private anchor(): Tuple {
    const input = this.input;
    // `done` is the runtime's ack/fail mark on its tuples (TupleImpl): read by name, as a bundle
    // may carry another copy of this module
    if (input !== null && !((input as { done?: number }).done! > 0)) return input;
    const err = squallError(
      'ERR_EMIT_AFTER_SETTLE',
      'a basic bolt emitted after its input was acked or failed; return (or await) the promise of every asynchronous step from execute, so its emits happen before it settles',
    );
    this.out.reportError(err);
    throw err;
  }
}

/**
 * Runs an `IBasicBolt` as a rich bolt, as Storm's `BasicBoltExecutor` does: anchors every emit to
 * the input, acks the input when `execute` returns and fails it on a `FailedException` (reporting
 * it too when it is a `ReportedFailedException`). Any other exception propagates to the executor,
 * which fails the input and reports the error.
 *
 * When `execute` returns a promise, the same happens when it settles: the collector that execute
 * got stays bound to its input until then (emits after any number of awaits are anchored), and a
 * fresh collector serves the next input. While execute returns synchronously one collector is
 * reused, so the synchronous path allocates nothing per tuple.
 */
export class BasicBoltExecutor implements IBolt {
  private out: OutputCollector | null = null;
  private basic: AnchoringCollector | null = null;

  constructor(readonly bolt: IBasicBolt) {}

  prepare(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: OutputCollector): void {
    this.out = collector;
    this.basic = new AnchoringCollector(collector);
    this.bolt.prepare?.(conf, context);
  }

  execute(input: Tuple): MaybePromise {
    const basic = this.basic!;
    basic.input = input;
    let result: MaybePromise;
    try {
      result = this.bolt.execute(input, basic);
    } catch (err) {
      basic.input = null;
      this.failed(input, err);
      return;
    }
    if (result !== undefined && typeof (result as PromiseLike<void>).then === 'function') {
      // `basic` stays bound to `input` until the promise settles; the ack or fail seals it
      this.basic = new AnchoringCollector(this.out!);
      return (result as PromiseLike<void>).then(
        () => this.out!.ack(input),
        (err: unknown) => this.failed(input, err),
      );
    }
    basic.input = null;
    this.out!.ack(input);
  }

  /** FailedException fails the input (reporting it if asked); anything else goes to the executor. */
  private failed(input: Tuple, err: unknown): void {
    if (errorCode(err) !== 'ERR_FAILED_EXCEPTION') throw err;
    if ((err as { reported?: boolean }).reported) this.out!.reportError(err);
    this.out!.fail(input);
  }

  cleanup(): void {
    this.bolt.cleanup?.();
  }

  declareOutputFields(declarer: OutputFieldsDeclarer): void {
    this.bolt.declareOutputFields(declarer);
  }

  getComponentConfiguration(): TopologyConfig | null | undefined {
    return this.bolt.getComponentConfiguration?.();
  }
}
