/**
 * `retryAt: 'broker'` in the shared spout core: a failed tuple is handed back to the broker with
 * its retry delay (never acknowledged), the broker's redelivery carries the failure count, and
 * `maxRetries` still dead-letters a message that keeps failing. An in-memory queue broker with
 * delivery counts (JetStream-, quorum-queue-like), on a manual clock.
 */
import { ManualClock } from '../../../common/clock';
import { connectorError, seededRng, stringScheme, type SourceAdapter, type SourceMessage } from '../../../connectors/core';
import type { SquallError } from '../../../topology-api';
import { AdapterSpout, advance, fakeContext, RecordingSpoutCollector } from './helpers';

interface Msg extends SourceMessage {
  readonly offset: number;
  readonly payload: string;
}

/** A queue that redelivers what is handed back once its delay is over, counting deliveries. */
class QueueAdapter implements SourceAdapter<Msg> {
  readonly system = 'queue';
  readonly commitStyle = 'message' as const;
  readonly pollBlocks = false;
  readonly ready: Array<{ offset: number; payload: string; deliveries: number; dueMs: number }> = [];
  readonly acked: number[] = [];
  readonly requeued: Array<{ offset: number; delayMs: number }> = [];
  readonly dead: number[] = [];

  constructor(
    private readonly clock: ManualClock,
    payloads: string[],
  ) {
    payloads.forEach((payload, offset) => this.ready.push({ offset, payload, deliveries: 0, dueMs: 0 }));
  }

  async connect(): Promise<void> {}

  async poll(max: number): Promise<readonly Msg[]> {
    const out: Msg[] = [];
    for (let i = 0; i < this.ready.length && out.length < max; ) {
      const m = this.ready[i];
      if (m.dueMs > this.clock.now()) {
        i++;
        continue;
      }
      this.ready.splice(i, 1);
      m.deliveries++;
      out.push({ partition: 'q', offset: m.offset, payload: m.payload, deliveries: m.deliveries });
    }
    return out;
  }

  async ack(messages: readonly Msg[]): Promise<void> {
    for (const m of messages) this.acked.push(m.offset);
  }

  async requeue(m: Msg, delayMs: number): Promise<void> {
    this.requeued.push({ offset: m.offset, delayMs });
    this.ready.push({ offset: m.offset, payload: m.payload, deliveries: m.deliveries, dueMs: this.clock.now() + delayMs });
  }

  async deadLetter(m: Msg): Promise<void> {
    this.dead.push(m.offset);
  }

  replayable(): boolean {
    return false;
  }

  classify(err: unknown): SquallError {
    return connectorError('ERR_CONNECTOR_IO', 'queue', String(err), err);
  }

  async close(): Promise<void> {}
}

describe("BrokerSpout retryAt: 'broker'", () => {
  it('hands failures back with the backoff delay, counts redeliveries, dead-letters after maxRetries', async () => {
    const clock = new ManualClock();
    const queue = new QueueAdapter(clock, ['ok', 'flaky', 'poison']);
    const spout = new AdapterSpout(queue, { retryAt: 'broker', maxRetries: 2, retryBackoff: { initialMs: 100, maxMs: 1000 }, clock, random: seededRng(1) }, stringScheme());
    const collector = new RecordingSpoutCollector();
    spout.open({}, fakeContext(), collector);
    spout.activate();
    const flakyFailures = { n: 0 };
    for (let step = 0; step < 300; step++) {
      spout.nextTuple();
      const e = collector.emitted.shift();
      if (e !== undefined) {
        const text = String(e.values[0]);
        if (e.stream === 'deadletter') spout.ack(e.msgId);
        else if (text === 'poison' || (text === 'flaky' && flakyFailures.n++ === 0)) spout.fail(e.msgId);
        else spout.ack(e.msgId);
      }
      await advance(clock, 10, 10);
    }
    // never acked at the broker for a delivery that was handed back
    expect(queue.acked.sort()).toEqual([0, 1, 2]);
    expect(queue.requeued.filter((r) => r.offset === 1)).toHaveLength(1);
    // poison: first delivery + 2 retries through the broker, then dead-lettered
    expect(queue.requeued.filter((r) => r.offset === 2)).toHaveLength(2);
    expect(queue.dead).toEqual([2]);
    // each delay is the capped, jittered backoff of that failure
    for (const r of queue.requeued) expect(r.delayMs).toBeGreaterThanOrEqual(50);
    expect(spout.counters.retried).toBe(3);
    expect(spout.heldCount()).toBe(0);
    await spout.close();
  });
});
