import { AckKind } from '../../../worker/queues';
import { DeferredAcks } from '../../../worker/checkpoint/deferred-acks';

function setup() {
  const sent: number[][] = [];
  const d = new DeferredAcks({ sendAck: (kind, dest, root, hi, lo) => void sent.push([kind, dest, root, hi, lo]), ackerFor: (root) => 100 + (root % 2) });
  return { sent, d };
}

describe('DeferredAcks (at-least-once stateful bolts)', () => {
  it('holds acks until the checkpoint after them commits; fails pass at once', () => {
    const { sent, d } = setup();
    d.sendAck(AckKind.Ack, 0, 11, 1, 2, 0);
    d.sendAck(AckKind.Fail, 101, 13, 0, 0, 0);
    expect(sent).toEqual([[AckKind.Fail, 101, 13, 0, 0]]);
    d.prepare(1);
    d.sendAck(AckKind.Ack, 0, 12, 3, 4, 0); // after barrier 1: waits for checkpoint 2
    d.committed(1);
    expect(sent.slice(1)).toEqual([[AckKind.Ack, 101, 11, 1, 2]]);
    expect(d.count()).toBe(1);
    d.prepare(2);
    d.committed(2);
    expect(sent.slice(2)).toEqual([[AckKind.Ack, 100, 12, 3, 4]]);
    expect(d.count()).toBe(0);
  });

  it('folds consecutive acks of one tree into one record (XOR)', () => {
    const { sent, d } = setup();
    d.sendAck(AckKind.Ack, 0, 5, 0b0110, 0b1, 0);
    d.sendAck(AckKind.Ack, 0, 5, 0b0011, 0b1, 0);
    d.sendAck(AckKind.Ack, 0, 6, 1, 1, 0);
    d.sendAck(AckKind.Ack, 0, 5, 1, 0, 0);
    expect(d.count()).toBe(3);
    d.prepare(1);
    d.committed(1);
    expect(sent).toEqual([
      [AckKind.Ack, 101, 5, 0b0101, 0],
      [AckKind.Ack, 100, 6, 1, 1],
      [AckKind.Ack, 101, 5, 1, 0],
    ]);
  });

  it('a rollback fails every tree it held once, prepared or not, and forgets them', () => {
    const { sent, d } = setup();
    for (let i = 0; i < 3000; i++) d.sendAck(AckKind.Ack, 0, i % 2 ? 9 : 7, i, i, 0); // two trees, many inputs; the buffer grows
    d.prepare(5);
    d.sendAck(AckKind.Ack, 0, 8, 0, 0, 0);
    d.rolledBack();
    expect(sent).toEqual([
      [AckKind.Fail, 101, 7, 0, 0],
      [AckKind.Fail, 101, 9, 0, 0],
      [AckKind.Fail, 100, 8, 0, 0],
    ]);
    d.committed(5);
    expect(sent).toHaveLength(3);
    expect(d.count()).toBe(0);
  });
});
