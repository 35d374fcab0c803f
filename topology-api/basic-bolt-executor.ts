import type { TopologyConfig } from './config';
import type { BasicOutputCollector, IBasicBolt, IBolt, OutputCollector, OutputFieldsDeclarer, TopologyContext } from './components';
import { errorCode } from './errors';
import type { Tuple } from './tuple';

class AnchoringCollector implements BasicOutputCollector {
  input: Tuple | null = null;
  constructor(private readonly out: OutputCollector) {}
  emit(values: unknown[], streamId?: string): number[] {
    return this.out.emit(values, this.input, streamId);
  }
  emitDirect(taskId: number, values: unknown[], streamId?: string): void {
    this.out.emitDirect(taskId, values, this.input, streamId);
  }
  resetTimeout(input: Tuple): void {
    this.out.resetTimeout(input);
  }
  reportError(error: unknown): void {
    this.out.reportError(error);
  }
}

/**
 * Runs an `IBasicBolt` as a rich bolt, as Storm's `BasicBoltExecutor` does: anchors every emit to
 * the input, acks the input when `execute` returns and fails it on a `FailedException` (reporting
 * it too when it is a `ReportedFailedException`). Any other exception propagates to the executor,
 * which fails the input and reports the error.
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

  execute(input: Tuple): void {
    const basic = this.basic!;
    basic.input = input;
    try {
      this.bolt.execute(input, basic);
    } catch (err) {
      if (errorCode(err) !== 'ERR_FAILED_EXCEPTION') throw err;
      if ((err as { reported?: boolean }).reported) this.out!.reportError(err);
      this.out!.fail(input);
      return;
    } finally {
      basic.input = null;
    }
    this.out!.ack(input);
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
