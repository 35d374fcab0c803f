/**
 * close() while an ack batch is on its way to the broker: the acks queued behind that batch must
 * still be sent before the connection closes. They were skipped (the ack loop stops at close, and
 * close sent nothing while a batch was in flight), so the broker redelivered records the topology
 * had finished: duplicates after every clean shutdown or rebalance (RabbitMQ prefetch suite).
 */
import { ManualClock } from '../../../common/clock';
import { BrokerSpout, connectorError, jsonScheme, seededRng, type Scheme, type SourceAdapter, type SourceMessage } from '../../../connectors/core';
import { type SquallError } from '../../../topology-api';
import { advance, fakeContext, RecordingSpoutCollector, settle } from './helpers';

interface Msg extends SourceMessage {
  readonly offset: number;
}

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
    const out: Msg[] = [];
    while (this.cursor < this.total && out.length < max) out.push({ partition: 'p', offset: this.cursor, payload: JSON.stringify({ n: this.cursor++ }), deliveries: 1 });
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

class TestSpout extends BrokerSpout<Msg> {
  protected readonly system = 'fake';
  constructor(
    clock: ManualClock,
    private readonly fake: GatedAckAdapter,
  ) {
    super({ maxPending: 8, prefetch: 8, clock, random: seededRng(3) });
  }
  protected createAdapter(): SourceAdapter<Msg> {
    return this.fake;
  }
  protected defaultScheme(): Scheme {
    return jsonScheme(['n']);
  }
}

async function openWithEight(clock: ManualClock, adapter: GatedAckAdapter): Promise<{ spout: TestSpout; ids: unknown[] }> {
  const spout = new TestSpout(clock, adapter);
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
