import { AckerTask } from '../../../worker/acker';
import { AckKind } from '../../../worker/queues';
import type { Delivery } from '../../../worker/routing';
import { Random } from '../../../common/random';

function harness() {
  const sent: Array<[number, number, number]> = [];
  const delivery: Delivery = {
    sendTuple: () => undefined,
    sendAck: (kind, dest, root) => void sent.push([kind, dest, root]),
    ackerFor: () => 1,
    queueFor: () => ({ isFull: () => false }),
  };
  return { acker: new AckerTask(1, 3, delivery), sent };
}

const rand = new Random(1);
const edge = (): [number, number] => [rand.next32(), rand.next32()];

describe('AckerTask (XOR ledger)', () => {
  it('completes a tree when every edge has been acked, whatever its shape', () => {
    const { acker, sent } = harness();
    const root = 12345;
    const e1 = edge(); // spout → split
    acker.handle(AckKind.Init, root, e1[0], e1[1], 7);
    const words = [edge(), edge(), edge()]; // split emits three words anchored to e1's tuple
    const anchored = words.reduce((x, e) => [x[0] ^ e[0], x[1] ^ e[1]], [0, 0]);
    acker.handle(AckKind.Ack, root, e1[0] ^ anchored[0], e1[1] ^ anchored[1], 0); // split acks
    acker.handle(AckKind.Ack, root, words[0][0], words[0][1], 0);
    acker.handle(AckKind.Ack, root, words[1][0], words[1][1], 0);
    expect(sent).toEqual([]);
    acker.handle(AckKind.Ack, root, words[2][0], words[2][1], 0);
    expect(sent).toEqual([[AckKind.SpoutAck, 7, root]]);
    expect(acker.pendingTrees()).toBe(0);
  });

  it('handles acks that arrive before the init', () => {
    const { acker, sent } = harness();
    const e = edge();
    acker.handle(AckKind.Ack, 9, e[0], e[1], 0);
    expect(sent).toEqual([]);
    acker.handle(AckKind.Init, 9, e[0], e[1], 3);
    expect(sent).toEqual([[AckKind.SpoutAck, 3, 9]]);
  });

  it('does not complete on a zero ledger before the init arrives', () => {
    const { acker, sent } = harness();
    const e = edge();
    acker.handle(AckKind.Ack, 5, e[0], e[1], 0);
    acker.handle(AckKind.Ack, 5, e[0], e[1], 0); // XOR back to zero, but no init yet
    expect(sent).toEqual([]);
  });

  it('fails the root on a fail, even one that arrives before the init', () => {
    const { acker, sent } = harness();
    acker.handle(AckKind.Fail, 4, 0, 0, 0);
    expect(sent).toEqual([]);
    const e = edge();
    acker.handle(AckKind.Init, 4, e[0], e[1], 2);
    expect(sent).toEqual([[AckKind.SpoutFail, 2, 4]]);
    expect(acker.pendingTrees()).toBe(0);
  });

  it('forwards timeout resets to the spout task and keeps the tree', () => {
    const { acker, sent } = harness();
    const e = edge();
    acker.handle(AckKind.Init, 8, e[0], e[1], 6);
    acker.rotate();
    acker.rotate();
    acker.handle(AckKind.Reset, 8, 0, 0, 0);
    expect(sent).toEqual([[AckKind.SpoutReset, 6, 8]]);
    acker.rotate();
    acker.rotate(); // two rotations after the reset: still there (3 buckets)
    expect(acker.pendingTrees()).toBe(1);
    acker.rotate();
    expect(acker.pendingTrees()).toBe(0);
  });

  it('drops trees older than the timeout on rotation', () => {
    const { acker } = harness();
    const e = edge();
    acker.handle(AckKind.Init, 1, e[0], e[1], 1);
    acker.rotate();
    acker.rotate();
    expect(acker.pendingTrees()).toBe(1);
    acker.rotate();
    expect(acker.pendingTrees()).toBe(0);
  });
});
