/**
 * close() while an ack batch is on its way to the broker: the acks queued behind that batch must
 * still be sent before the connection closes. They were skipped (the ack loop stops at close, and
 * close sent nothing while a batch was in flight), so the broker redelivered records the topology
 * had finished: duplicates after every clean shutdown or rebalance (RabbitMQ prefetch suite).
 */
import { ManualClock } from '../../../common/clock';
import { connectorError, jsonScheme, seededRng, type SourceAdapter } from '../../../connectors/core';
import { type SquallError } from '../../../topology-api';
import { AdapterSpout, advance, fakeContext, numberedMessages, RecordingSpoutCollector, settle, type NumberedMessage as Msg } from './helpers';

/** A broker whose ack calls wait until the test lets them through. */
class GatedAckAdapter implements SourceAdapter<Msg> {
  readonly system = 'fake';
  readonly pollBlocks = false;
  readonly commitStyle = 'message' as const;
  cursor = 0;
  readonly acked: number[] = [];
  ackCalls = 0;
  closedWith: number[] | null = null;
  private gates: (() => void)[] = [];

  constructor(readonly total: number) {}

  async connect(): Promise<void> {}

  async poll(max: number): Promise<readonly Msg[]> {
    await Promise.resolve();
    const out = numberedMessages(this.cursor, this.total, max);
    this.cursor += out.length;
    return out;
  }

  async ack(messages: readonly Msg[]): Promise<void> {
    this.ackCalls++;
    await new Promise<void>((resolve) => this.gates.push(resolve));
    for (const m of messages) this.acked.push(m.offset);
  }

  /** Lets every waiting ack call finish. */
  release(): void {
    const g = this.gates;
    this.gates = [];
    for (const open of g) open();
  }

  waiting(): number {
    return this.gates.length;
  }

  replayable(): boolean {
    return false;
  }

  classify(err: unknown): SquallError {
    return connectorError('ERR_CONNECTOR_IO', 'fake', String(err), err);
  }

  async close(): Promise<void> {
    this.closedWith = [...this.acked];
  }
}

async function openWithEight(clock: ManualClock, adapter: GatedAckAdapter): Promise<{ spout: AdapterSpout<Msg>; ids: unknown[] }> {
  const spout = new AdapterSpout(adapter, { maxPending: 8, prefetch: 8, clock, random: seededRng(3) }, jsonScheme(['n']));
  const collector = new RecordingSpoutCollector();
  spout.open({}, fakeContext(), collector);
  spout.activate();
  await settle(10);
  for (let i = 0; i < 8; i++) spout.nextTuple();
  const ids = collector.emitted.filter((e) => e.msgId !== null).map((e) => e.msgId);
  expect(ids.length).toBe(8);
  return { spout, ids };
}

describe('BrokerSpout.close with an ack batch in flight', () => {
  it('sends the acks queued behind the batch before closing the connection', async () => {
    const clock = new ManualClock();
    const adapter = new GatedAckAdapter(8);
    const { spout, ids } = await openWithEight(clock, adapter);
    for (const id of ids.slice(0, 3)) spout.ack(id);
    await advance(clock, 1, 10);
    expect(adapter.waiting()).toBe(1); // the first batch (3 acks) is at the broker
    for (const id of ids.slice(3)) spout.ack(id); // these queue behind it
    const closing = spout.close();
    await settle(10);
    adapter.release(); // the first batch completes
    await settle(10);
    adapter.release(); // the rest, sent by close
    await closing;
    expect(adapter.closedWith).not.toBeNull();
    expect([...adapter.closedWith!].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('gives up on a batch that never returns after 2 s and still closes', async () => {
    const clock = new ManualClock();
    const adapter = new GatedAckAdapter(8);
    const { spout, ids } = await openWithEight(clock, adapter);
    for (const id of ids.slice(0, 3)) spout.ack(id);
    await advance(clock, 1, 10);
    expect(adapter.waiting()).toBe(1);
    let closed = false;
    void spout.close().then(() => (closed = true));
    await advance(clock, 1_900, 10);
    expect(closed).toBe(false);
    await advance(clock, 200, 10);
    expect(closed).toBe(true);
    expect(adapter.closedWith).toEqual([]);
    expect(adapter.ackCalls).toBe(1); // nothing sent twice while the first batch may still land
  });
});
