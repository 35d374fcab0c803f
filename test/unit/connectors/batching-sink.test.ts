/**
 * The shared sink core (BatchingSinkBolt): flushes on size, timer and tick tuples; acks an input
 * only after the write that carried it was confirmed; retries a failed write with backoff, then
 * fails its inputs; one promise per batch. Property test with random write failures (seeded).
 */
import { ManualClock } from '../../../common/clock';
import { BatchingSinkBolt, connectorError, seededRng, type BatchingSinkOptions, type SinkWriter } from '../../../connectors/core';
import type { SquallError, Tuple } from '../../../topology-api';
import { advance, fakeContext, RecordingBoltCollector, settle, tickTuple, tuple } from './helpers';

class FakeWriter implements SinkWriter<number> {
  readonly system = 'fake';
  readonly written: number[][] = [];
  /** Attempts in order; true = fail. */
  failures: (() => boolean) | null = null;
  connects = 0;
  inFlight: Array<() => void> = [];
  manual = false;

  async connect(): Promise<void> {
    this.connects++;
  }
  write(items: readonly number[]): Promise<void> {
    if (this.failures?.()) return Promise.reject(Object.assign(new Error('EPIPE'), { code: 'EPIPE' }));
    if (this.manual) {
      return new Promise((resolve) =>
        this.inFlight.push(() => {
          this.written.push([...items]);
          resolve();
        }),
      );
    }
    this.written.push([...items]);
    return Promise.resolve();
  }
  classify(err: unknown): SquallError {
    return connectorError('ERR_CONNECTOR_IO', 'fake', String(err), err);
  }
  async close(): Promise<void> {}
}

class TestSink extends BatchingSinkBolt<number> {
  protected readonly system = 'fake';
  constructor(
    options: BatchingSinkOptions,
    private readonly fake: FakeWriter,
  ) {
    super(options);
  }
  protected createWriter(): SinkWriter<number> {
    return this.fake;
  }
  protected toItem(input: Tuple): number {
    const n = input.getValue(0);
    if (typeof n !== 'number') throw new Error('not a number');
    return n;
  }
}

function setup(options: BatchingSinkOptions = {}, conf: Record<string, unknown> = {}): { sink: TestSink; writer: FakeWriter; collector: RecordingBoltCollector; clock: ManualClock } {
  const clock = new ManualClock();
  const writer = new FakeWriter();
  const sink = new TestSink({ batchSize: 3, flushIntervalMs: 20, writeAttempts: 3, reconnectBackoff: { initialMs: 10, maxMs: 40 }, clock, random: seededRng(1), ...options }, writer);
  const collector = new RecordingBoltCollector();
  sink.prepare(conf, fakeContext(0, 1, 'sink'), collector);
  return { sink, writer, collector, clock };
}

const n = (v: unknown): Tuple => tuple([v], ['n']);

describe('BatchingSinkBolt', () => {
  it('writes a full batch at once and acks its inputs only after the write is confirmed; one promise per batch', async () => {
    const { sink, writer, collector } = setup();
    writer.manual = true;
    const inputs = [n(1), n(2), n(3)];
    const promises = inputs.map((t) => sink.execute(t));
    expect(new Set(promises).size).toBe(1);
    await settle();
    expect(writer.inFlight.length).toBe(1);
    expect(collector.acked.length).toBe(0); // not confirmed yet
    writer.inFlight[0]();
    await promises[0];
    expect(writer.written).toEqual([[1, 2, 3]]);
    expect(collector.acked).toEqual(inputs);
  });

  it('flushes a partial batch after flushIntervalMs, and at once on a tick tuple', async () => {
    const { sink, writer, collector, clock } = setup();
    sink.execute(n(1));
    await advance(clock, 15, 5);
    expect(writer.written).toEqual([]);
    await advance(clock, 10, 5);
    expect(writer.written).toEqual([[1]]);
    sink.execute(n(2));
    sink.execute(tickTuple());
    await settle();
    expect(writer.written).toEqual([[1], [2]]);
    expect(collector.acked.length).toBe(3); // two inputs and the tick
    expect(clock.pendingTimers()).toBe(0);
  });

  it('caps the batch at topology.bolt.max.inflight so a batch can always fill up', async () => {
    const { sink, writer } = setup({ batchSize: 100 }, { 'topology.bolt.max.inflight': 2 });
    sink.execute(n(1));
    sink.execute(n(2));
    await settle();
    expect(writer.written).toEqual([[1, 2]]);
  });

  it('retries a failed write with backoff (reporting a coded error), then acks; fails the inputs when attempts run out', async () => {
    const { sink, writer, collector, clock } = setup();
    let calls = 0;
    writer.failures = () => ++calls <= 2;
    const inputs = [n(1), n(2), n(3)];
    for (const t of inputs) sink.execute(t);
    await advance(clock, 200, 5);
    expect(collector.acked).toEqual(inputs);
    expect(collector.codes()).toEqual(['ERR_CONNECTOR_IO', 'ERR_CONNECTOR_IO']);
    expect(sink.counters.retries).toBe(2);
    expect(writer.connects).toBe(3); // reconnected after each failure

    writer.failures = () => true;
    const doomed = [n(4), n(5), n(6)];
    for (const t of doomed) sink.execute(t);
    await advance(clock, 500, 5);
    expect(collector.failed).toEqual(doomed);
    expect(sink.counters.failed).toBe(3);
  });

  it('fails and reports an input it cannot turn into a write, without stalling the others', async () => {
    const { sink, writer, collector } = setup();
    const bad = n('x');
    sink.execute(bad);
    for (const v of [1, 2, 3]) sink.execute(n(v));
    await settle();
    expect(collector.failed).toEqual([bad]);
    expect(collector.codes()).toEqual(['ERR_CONNECTOR_DECODE']);
    expect(writer.written).toEqual([[1, 2, 3]]);
  });

  it.each([11, 12, 13, 14, 15, 16])('every input is acked or failed exactly once, acked only when written, in order (seed %i)', async (seed) => {
    const rng = seededRng(seed);
    const { sink, writer, collector, clock } = setup({ batchSize: 1 + Math.floor(rng() * 8), writeAttempts: 1 + Math.floor(rng() * 3) });
    writer.failures = () => rng() < 0.3;
    const inputs: Tuple[] = [];
    for (let i = 0; i < 400; i++) {
      const r = rng();
      if (r < 0.6) {
        const t = n(i);
        inputs.push(t);
        sink.execute(t);
      } else if (r < 0.65) sink.execute(tickTuple());
      else await advance(clock, Math.floor(rng() * 30), 5);
    }
    await advance(clock, 2000, 10);
    const done = [...collector.acked.filter((t) => t.getSourceComponent() !== '__system'), ...collector.failed];
    expect(done.length).toBe(inputs.length);
    expect(new Set(done).size).toBe(inputs.length);
    const written = writer.written.flat();
    for (const t of collector.acked) if (t.getSourceComponent() !== '__system') expect(written).toContain(t.getValue(0));
    expect(written).toEqual([...written].sort((a, b) => a - b)); // batches written in order
    await sink.cleanup();
    expect(clock.pendingTimers()).toBe(0);
  });
});
