import { Aggregates, Duration } from '../../../topology-api';
import { Collect, executedAll, GatedSpout, RecordingAggregateBolt, RecordingWindowBolt, run, SpoutLedger, turns, until, windowStats, type Fired, type Result } from './helpers';

const WALL0 = 1_700_000_000_000;

describe('session windows', () => {
  it('close after the gap, per key, and merge when a tuple bridges two sessions (event time)', async () => {
    const fired: Fired[] = [];
    const ledger = new SpoutLedger();
    // [user, ts]: c's tuple at 2000 touches its sessions [0, 2000) and [4000, 6000): one session
    const input = [
      ['a', 0],
      ['b', 0],
      ['c', 0],
      ['a', 1000],
      ['c', 4000],
      ['a', 2500],
      ['b', 5000],
      ['c', 2000],
      ['z', 20_000], // moves the watermark past everything
    ];
    const { cluster } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(input, { open: input.length }, ledger, ['user', 'ts']));
      b.setBolt('w', () => new RecordingWindowBolt(fired, 1).withSessionWindow(Duration.seconds(2)).withKeyField('user').withTimestampField('ts').withLag(Duration.seconds(10))).shuffleGrouping('s');
    });
    try {
      await until(() => fired.length === 4, 'four sessions');
      const got = fired.map((f) => [f.key, f.start, f.end, [...f.values].sort((x, y) => (x as number) - (y as number))]);
      expect(got.sort((x, y) => String(x[0]).localeCompare(String(y[0])) || (x[1] as number) - (y[1] as number))).toEqual([
        ['a', 0, 4500, [0, 1000, 2500]],
        ['b', 0, 2000, [0]],
        ['b', 5000, 7000, [5000]],
        ['c', 0, 6000, [0, 2000, 4000]],
      ]);
      await until(() => ledger.acked.length === 8, 'every tuple of a closed session acked');
      expect(await windowStats(cluster, 'w')).toMatchObject({ open: 1, buffered: 1 }); // z's session
    } finally {
      await cluster.close();
    }
  });

  it('close on the clock in processing time', async () => {
    const fired: Fired[] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 0 };
    const { cluster, clock } = await run((b) => {
      b.setSpout('s', () => new GatedSpout([['a'], ['a'], ['b']], gate, ledger, ['user']));
      b.setBolt('w', () => new RecordingWindowBolt(fired).withSessionWindow(Duration.seconds(2)).withKeyField('user')).shuffleGrouping('s');
    });
    try {
      gate.open = 1;
      await executedAll(cluster, 'w', 1);
      clock.advance(1000);
      gate.open = 3;
      await executedAll(cluster, 'w', 3);
      clock.advance(1999); // a's session ends at 3000, b's at 3000 too
      await turns(10);
      expect(fired).toEqual([]);
      clock.advance(1);
      await until(() => fired.length === 2, 'both sessions');
      expect(fired.map((f) => [f.key, f.start! - WALL0, f.end - WALL0, f.values.length])).toEqual([
        ['a', 0, 3000, 2],
        ['b', 1000, 3000, 1],
      ]);
      await until(() => ledger.acked.length === 3, 'acked');
    } finally {
      await cluster.close();
    }
  });

  it('aggregate incrementally, merging accumulators when sessions merge, and update a fired session within the allowed lateness', async () => {
    const results: Result[] = [];
    const late: unknown[][] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 0 };
    const input = [
      ['u', 0],
      ['u', 4000],
      ['v', 9000], // watermark 9000: u's sessions [0, 2000) and [4000, 6000) fire
      ['u', 2000], // within the lateness: bridges them into [0, 6000), fired again as an update
      ['v', 30_000], // watermark 30000: u's session is gone
      ['u', 5000], // too late
    ];
    const { cluster } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(input, gate, ledger, ['user', 'ts']));
      b.setBolt('w', () =>
        new RecordingAggregateBolt(results)
          .withSessionWindow(Duration.seconds(2))
          .withKeyField('user')
          .withTimestampField('ts')
          .withAllowedLateness(Duration.seconds(10))
          .withLateTupleStream('late')
          .withAggregate(Aggregates.count()),
      ).shuffleGrouping('s');
      b.setBolt('late', () => new Collect(late)).shuffleGrouping('w', 'late');
    });
    try {
      gate.open = 3;
      await until(() => results.length === 2, 'two sessions of u');
      expect(results).toEqual([
        { key: 'u', result: 1, start: 0, end: 2000, update: false },
        { key: 'u', result: 1, start: 4000, end: 6000, update: false },
      ]);
      gate.open = 4;
      await until(() => results.length === 3, 'the merged session, as an update');
      expect(results[2]).toEqual({ key: 'u', result: 3, start: 0, end: 6000, update: true });
      gate.open = 6;
      await until(async () => (await windowStats(cluster, 'w')).late === 1, 'the late tuple');
      // v's session [9000, 11000) fired when the watermark reached 30000
      expect(results.slice(3)).toEqual([{ key: 'v', result: 1, start: 9000, end: 11_000, update: false }]);
      await until(() => ledger.acked.length === 5, 'acks: u, v and the late one');
      expect(late).toEqual([[['u', 5000]]]);
    } finally {
      await cluster.close();
    }
  });
});
