import { SentenceGeneratorSpout, generatedSentence, resolveTopologyConfig } from '../../../topology-api';
import { RecordingSpoutCollector, fakeContext } from '../connectors/helpers';

/** Task `taskIndex` of 2 of a sentence generator under `guarantee`, with what it emitted. */
function open(guarantee: string, taskIndex = 1, count = 100): { spout: SentenceGeneratorSpout; out: RecordingSpoutCollector; ids: () => number[] } {
  const spout = new SentenceGeneratorSpout({ count });
  const out = new RecordingSpoutCollector();
  spout.open(resolveTopologyConfig({ 'topology.processing.guarantee': guarantee }), fakeContext(taskIndex, 2, 'sentences'), out);
  return { spout, out, ids: () => out.emitted.map((e) => e.msgId as number) };
}

describe('GeneratorSpout offsets', () => {
  it('exactly-once: offsets() is the count emitted, whatever was acked', () => {
    const { spout, ids } = open('exactly-once');
    for (let i = 0; i < 4; i++) spout.nextTuple();
    expect(ids()).toEqual([1, 3, 5, 7]); // task 1 of 2: the odd indexes
    expect(spout.offsets()).toEqual({ next: 4 });
  });

  // A restarted task resumes at offsets() from the last committed checkpoint. Under at-least-once
  // that must not skip a tuple that had failed or was still in flight when its task died: a later
  // checkpoint may have committed, and the dead task's pending replays died with it.
  it('at-least-once: offsets() stops before the earliest tuple not acked, failed ones included', () => {
    const { spout, ids } = open('at-least-once');
    for (let i = 0; i < 5; i++) spout.nextTuple();
    expect(ids()).toEqual([1, 3, 5, 7, 9]);
    expect(spout.offsets()).toEqual({ next: 0 });
    spout.ack(1);
    spout.ack(5);
    expect(spout.offsets()).toEqual({ next: 1 }); // 3 is not acked
    spout.fail(3);
    expect(spout.offsets()).toEqual({ next: 1 }); // failed, to be emitted again: still not done
    spout.nextTuple(); // the retry
    expect(ids().at(-1)).toBe(3);
    spout.ack(3);
    expect(spout.offsets()).toEqual({ next: 3 }); // 1, 3, 5 acked; 7 is next
    spout.ack(9);
    spout.ack(7);
    expect(spout.offsets()).toEqual({ next: 5 });
  });

  it('at-least-once: a new task seeked to those offsets emits again from the earliest tuple not acked', () => {
    const first = open('at-least-once');
    for (let i = 0; i < 4; i++) first.spout.nextTuple();
    first.spout.ack(1);
    first.spout.ack(5);
    const offsets = first.spout.offsets();
    const second = open('at-least-once');
    second.spout.seek(offsets);
    for (let i = 0; i < 3; i++) second.spout.nextTuple();
    expect(second.ids()).toEqual([3, 5, 7]); // 5 again (at-least-once), 3 and 7 not lost
    expect(second.out.emitted[0].values).toEqual([generatedSentence(3)]);
    expect(second.spout.offsets()).toEqual({ next: 1 });
  });

  it('at-least-once: any number pending (the record grows), acked in any order', () => {
    const { spout, ids } = open('at-least-once', 0, 10_000);
    for (let i = 0; i < 3000; i++) spout.nextTuple();
    const emitted = ids();
    expect(emitted).toHaveLength(3000);
    for (const id of emitted.slice(1).reverse()) spout.ack(id);
    expect(spout.offsets()).toEqual({ next: 0 });
    spout.ack(emitted[0]);
    expect(spout.offsets()).toEqual({ next: 3000 });
    spout.ack(emitted[5]); // acked twice: nothing moves
    expect(spout.offsets()).toEqual({ next: 3000 });
  });
});
