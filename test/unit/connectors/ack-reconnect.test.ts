/**
 * A connection lost while every record is held (in flight, or waiting for its broker ack): the poll
 * loop has no room and sleeps, so only an ack sees the dead connection. The spout must reconnect
 * anyway — a dead connection does not come back by itself (ioredis's "Connection is closed") —
 * instead of retrying the ack on it forever (seen in the Redis cluster suite under load).
 */
import { ManualClock } from '../../../common/clock';
import { connectorError, jsonScheme, seededRng, type SourceAdapter } from '../../../connectors/core';
import { type SquallError } from '../../../topology-api';
import { AdapterSpout, advance, fakeContext, numberedMessages, RecordingSpoutCollector, settle, type NumberedMessage as Msg } from './helpers';

/** A broker whose connections die on a restart and stay dead until connect() makes a new one. */
class OneConnectionAdapter implements SourceAdapter<Msg> {
  readonly system = 'fake';
  readonly pollBlocks = false;
  readonly commitStyle = 'message' as const;
  generation = 0;
  private mine = -1;
  connects = 0;
  cursor = 0;
  readonly acked = new Set<number>();

  constructor(readonly total: number) {}

  restart(): void {
    this.generation++;
  }

  private check(): void {
    if (this.mine !== this.generation) throw Object.assign(new Error('Connection is closed.'), { code: 'ECONNRESET' });
  }

  async connect(): Promise<void> {
    this.connects++;
    this.mine = this.generation;
  }

  async poll(max: number): Promise<readonly Msg[]> {
    await Promise.resolve();
    this.check();
    const out = numberedMessages(this.cursor, this.total, max);
    this.cursor += out.length;
    return out;
  }

  async ack(messages: readonly Msg[]): Promise<void> {
    await Promise.resolve();
    this.check();
    for (const m of messages) this.acked.add(m.offset);
  }

  replayable(): boolean {
    return false;
  }

  classify(err: unknown): SquallError {
    return connectorError('ERR_CONNECTOR_CONNECT', 'fake', String(err), err);
  }

  async close(): Promise<void> {}
}

describe('BrokerSpout: a connection lost while the poll loop has no room', () => {
  it('reconnects when an ack finds the connection dead, then acknowledges everything', async () => {
    const clock = new ManualClock();
    const adapter = new OneConnectionAdapter(8);
    const spout = new AdapterSpout(adapter, { maxPending: 4, prefetch: 4, reconnectBackoff: { initialMs: 5, maxMs: 40 }, clock, random: seededRng(1) }, jsonScheme(['n']));
    const collector = new RecordingSpoutCollector();
    spout.open({}, fakeContext(), collector);
    spout.activate();
    await settle(10);
    // fill: max pending in flight and the prefetch buffer full, so the poll loop has no room
    for (let i = 0; i < 8; i++) spout.nextTuple();
    await settle(10);
    const first = collector.emitted.filter((e) => e.msgId !== null);
    expect(first.length).toBe(4);
    expect(spout.heldCount()).toBe(8);
    const connectsBefore = adapter.connects;
    adapter.restart(); // the broker restarts: the open connection is dead for good
    for (const e of first) spout.ack(e.msgId);
    await advance(clock, 400, 10);
    expect(adapter.connects).toBeGreaterThan(connectsBefore);
    for (let round = 0; round < 20 && adapter.acked.size < 8; round++) {
      for (let i = 0; i < 4; i++) spout.nextTuple();
      await settle(5);
      for (const e of collector.emitted.filter((x) => x.msgId !== null && !(x.msgId as { acked?: boolean }).acked)) {
        (e.msgId as { acked?: boolean }).acked = true;
        spout.ack(e.msgId);
      }
      await advance(clock, 100, 10);
    }
    expect([...adapter.acked].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(spout.lastError()?.code).toBe('ERR_CONNECTOR_CONNECT');
    spout.close();
  });
});
