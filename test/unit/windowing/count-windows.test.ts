import { Count } from '../../../topology-api';
import { Collect, GatedSpout, RecordingWindowBolt, run, SpoutLedger, turns, until, type Fired } from './helpers';

const values = (n: number): unknown[][] => Array.from({ length: n }, (_, i) => [i]);

describe('count windows (processing time)', () => {
  it('tumbles every n tuples, each window holding exactly those n', async () => {
    const fired: Fired[] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 10 };
    const { cluster } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(values(10), gate, ledger));
      b.setBolt('w', () => new RecordingWindowBolt(fired).withTumblingWindow(Count.of(3))).shuffleGrouping('s');
    });
    try {
      await until(() => fired.length === 3, 'three windows');
      await turns(10);
      expect(fired.map((f) => f.values)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
      expect(fired.map((f) => f.fresh)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
      expect(fired.map((f) => f.expired)).toEqual([[], [0, 1, 2], [3, 4, 5]]);
      expect(fired[0].start).toBeNull();
      // acked as soon as their (only) window fired; 9 waits for its window
      await until(() => ledger.acked.length === 9, 'acks');
      expect([...ledger.acked].sort((a, b) => (a as number) - (b as number))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    } finally {
      await cluster.close();
    }
  });

  it('slides by a count: the last n tuples every k, acked when they leave the last window', async () => {
    const fired: Fired[] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 0 };
    const { cluster } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(values(9), gate, ledger));
      b.setBolt('w', () => new RecordingWindowBolt(fired).withWindow(Count.of(4), Count.of(2))).shuffleGrouping('s');
    });
    try {
      gate.open = 9;
      await until(() => fired.length === 4, 'four windows');
      expect(fired.map((f) => f.values)).toEqual([[0, 1], [0, 1, 2, 3], [2, 3, 4, 5], [4, 5, 6, 7]]);
      expect(fired.map((f) => f.fresh)).toEqual([[0, 1], [2, 3], [4, 5], [6, 7]]);
      expect(fired.map((f) => f.expired)).toEqual([[], [], [0, 1], [2, 3]]);
      await until(() => ledger.acked.length === 6, 'acks of tuples out of every future window');
      expect([...ledger.acked].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    } finally {
      await cluster.close();
    }
  });

  it('slides on every tuple when no slide is given (Storm), anchoring emits to the window', async () => {
    const fired: Fired[] = [];
    const out: unknown[][] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 5 };
    const { cluster } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(values(5), gate, ledger));
      b.setBolt('w', () => new RecordingWindowBolt(fired).withWindow(Count.of(2))).shuffleGrouping('s');
      b.setBolt('c', () => new Collect(out)).shuffleGrouping('w');
    });
    try {
      await until(() => fired.length === 5 && out.length === 5, 'a window per tuple');
      expect(fired.map((f) => f.values)).toEqual([[0], [0, 1], [1, 2], [2, 3], [3, 4]]);
      // tuple 4 is still in the window: its tree (window emits are anchored to it) is not complete
      await until(() => ledger.acked.length === 4, 'acks');
      await turns(10);
      expect([...ledger.acked].sort()).toEqual([0, 1, 2, 3]);
      expect((await cluster.pendingCounts('t')).spoutPending).toBe(1);
    } finally {
      await cluster.close();
    }
  });
});
