import { silentLogger } from '../../../common/logging';
import { createUnpackr, decodeControl, decodeTuples } from '../../../worker/transport/codec';
import { FrameKind, frameKind } from '../../../worker/transport/frames';
import { Outbox, type FrameSink } from '../../../worker/transport/outbox';
import { testStreams, wordTuple } from './helpers';

/** A link whose writes complete only when the test says so. */
class ManualSink implements FrameSink {
  frames: Buffer[] = [];
  private dones: Array<() => void> = [];
  send(frame: Buffer, done: () => void): void {
    this.frames.push(frame);
    this.dones.push(done);
  }
  completeAll(): void {
    const d = this.dones;
    this.dones = [];
    for (const f of d) f();
  }
}

const unpackr = createUnpackr();
const table = testStreams();
const wordsOf = (frames: Buffer[]): unknown[] => frames.flatMap((f) => decodeTuples(unpackr, table, f).tuples.map((t) => t.values[0]));

function outbox(opts: Partial<{ batchSize: number; bufferBytes: number; disconnectedTuplesMax: number }> = {}) {
  const wakes = { count: 0 };
  const o = new Outbox({
    peer: 'B',
    batchSize: opts.batchSize ?? 4,
    bufferBytes: opts.bufferBytes ?? 1 << 20,
    frameBytesMax: 1 << 20,
    disconnectedTuplesMax: opts.disconnectedTuplesMax,
    onWritable: () => wakes.count++,
    logger: silentLogger(),
  });
  return { o, wakes };
}

describe('Outbox', () => {
  test('batches a turn into one frame on flush, and sends at once when a batch reaches batchSize', () => {
    const { o } = outbox({ batchSize: 4 });
    const sink = new ManualSink();
    o.attach(sink);
    o.addTuple(1, wordTuple('a'));
    o.addAck(2, 4, 7, 1, 1, 3);
    o.addTuple(2, wordTuple('b'));
    expect(sink.frames).toHaveLength(0);
    o.flush();
    expect(sink.frames).toHaveLength(1);
    expect(wordsOf(sink.frames)).toEqual(['a', 'b']);
    expect(decodeTuples(unpackr, table, sink.frames[0]).acks).toEqual([2, 4, 7, 1, 1, 3]);
    for (let i = 0; i < 9; i++) o.addTuple(1, wordTuple(`w${i}`));
    expect(sink.frames).toHaveLength(3); // two full batches went without waiting for flush
    o.flush();
    expect(sink.frames).toHaveLength(4);
    o.flush(); // nothing batched: nothing sent
    expect(sink.frames).toHaveLength(4);
    expect(wordsOf(sink.frames.slice(1))).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6', 'w7', 'w8']);
    expect(o.stats()).toMatchObject({ framesSent: 4, tuplesSent: 11, acksSent: 1 });
  });

  test('full while bytes in flight exceed bufferBytes; not full, and the runtime woken, once written out', () => {
    const { o, wakes } = outbox({ batchSize: 1000, bufferBytes: 200 });
    const sink = new ManualSink();
    o.attach(sink);
    for (let i = 0; i < 10; i++) o.addTuple(1, wordTuple(`word-${i}`));
    o.flush();
    expect(o.isFull()).toBe(false); // ~100 bytes in flight
    for (let i = 0; i < 10; i++) o.addTuple(1, wordTuple(`word-${i}`));
    o.flush();
    expect(o.stats().inflightBytes).toBeGreaterThan(200);
    expect(o.isFull()).toBe(true);
    expect(wakes.count).toBe(0);
    sink.completeAll();
    expect(o.isFull()).toBe(false);
    expect(wakes.count).toBe(1);
  });

  test('while disconnected it holds frames, full past disconnectedTuplesMax; on attach they go in order', () => {
    const { o, wakes } = outbox({ batchSize: 3, disconnectedTuplesMax: 6 });
    for (let i = 0; i < 5; i++) o.addTuple(1, wordTuple(`w${i}`));
    expect(o.isFull()).toBe(false);
    o.addTuple(1, wordTuple('w5'));
    expect(o.isFull()).toBe(true);
    o.addTuple(1, wordTuple('w6')); // a callback already running may overshoot: accepted, not dropped
    o.flush();
    expect(o.stats()).toMatchObject({ connected: false, pendingFrames: 3, pendingTuples: 7, tuplesDropped: 0 });
    const sink = new ManualSink();
    o.attach(sink);
    expect(o.isFull()).toBe(false);
    expect(wakes.count).toBe(1);
    expect(wordsOf(sink.frames)).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'w5', 'w6']);
  });

  test('BACKPRESSURE on makes it full until off; a new link clears it', () => {
    const { o, wakes } = outbox();
    o.attach(new ManualSink());
    o.setRemoteBackpressure(true);
    expect(o.isFull()).toBe(true);
    o.setRemoteBackpressure(false);
    expect(o.isFull()).toBe(false);
    expect(wakes.count).toBe(1);
    o.setRemoteBackpressure(true);
    o.detach();
    o.attach(new ManualSink());
    expect(o.isFull()).toBe(false);
  });

  test('completions of a replaced link are ignored', () => {
    const { o } = outbox({ batchSize: 1000, bufferBytes: 100 });
    const old = new ManualSink();
    o.attach(old);
    for (let i = 0; i < 20; i++) o.addTuple(1, wordTuple(`word-${i}`));
    o.flush();
    expect(o.isFull()).toBe(true);
    o.detach();
    const sink = new ManualSink();
    o.attach(sink);
    expect(o.stats().inflightBytes).toBe(0);
    o.addTuple(1, wordTuple('x'));
    o.flush();
    old.completeAll();
    expect(o.stats().inflightBytes).toBe(sink.frames[0].length);
  });

  test('CONTROL goes after what was batched before it', () => {
    const { o } = outbox();
    const sink = new ManualSink();
    o.attach(sink);
    o.addTuple(1, wordTuple('a'));
    o.sendControl({ type: 'assignment-changed' });
    expect(sink.frames.map((f) => frameKind(f, 1 << 20))).toEqual([FrameKind.TUPLES, FrameKind.CONTROL]);
    expect(decodeControl(unpackr, sink.frames[1])).toEqual({ type: 'assignment-changed' });
  });

  test('close drops what waits, counts it, and never reports full again', () => {
    const { o, wakes } = outbox({ batchSize: 2, disconnectedTuplesMax: 2 });
    o.addTuple(1, wordTuple('a'));
    o.addTuple(1, wordTuple('b'));
    o.addTuple(1, wordTuple('c'));
    expect(o.isFull()).toBe(true);
    o.close();
    expect(o.isFull()).toBe(false);
    expect(wakes.count).toBe(1);
    o.addTuple(1, wordTuple('d'));
    expect(o.stats()).toMatchObject({ tuplesDropped: 4, pendingTuples: 0, pendingFrames: 0 });
    o.close();
  });
});
