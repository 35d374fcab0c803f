import { Aggregates, Duration } from '../../../topology-api';
import { Collect, executedAll, GatedSpout, RecordingAggregateBolt, RecordingWindowBolt, run, SpoutLedger, until, windowStats, type Fired, type Result } from './helpers';

// [value, ts]: 300 and 400 are late for [0, 1000) but within its 2 s of allowed lateness; 1200 lands
// in [1000, 2000) after the watermark passed it empty; 500 comes after [0, 1000) was dropped
const TS = [100, 200, 1500, 300, 2500, 1200, 400, 3100, 500];
const input = TS.map((ts, i) => [i, ts]);

describe('allowed lateness', () => {
  it('fires a window again as an update for each late tuple within the lateness, then sends later ones to the late stream', async () => {
    const results: Result[] = [];
    const late: unknown[][] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 0 };
    const { cluster } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(input, gate, ledger, ['value', 'ts']));
      b.setBolt('w', () =>
        new RecordingAggregateBolt(results)
          .withTumblingWindow(Duration.seconds(1))
          .withTimestampField('ts')
          .withAllowedLateness(Duration.seconds(2))
          .withLateTupleStream('late')
          .withAggregate(Aggregates.count()),
      ).shuffleGrouping('s');
      b.setBolt('l', () => new Collect(late)).shuffleGrouping('w', 'late');
    });
    try {
      for (let n = 1; n <= input.length; n++) {
        gate.open = n;
        await executedAll(cluster, 'w', n);
      }
      await until(() => late.length === 1, 'the late tuple');
      expect(results.map((r) => [r.start, r.result, r.update])).toEqual([
        [0, 2, false], // watermark 1500
        [0, 3, true], // 300
        [1000, 1, false], // watermark 2500
        [1000, 2, true], // 1200
        [0, 4, true], // 400
        [2000, 0 + 1, false], // watermark 3100: [2000, 3000) holds 2500; [0, 1000) is dropped (1000 + 2000 <= 3100)
      ]);
      expect(late).toEqual([[[8, 500]]]);
      expect(await windowStats(cluster, 'w')).toMatchObject({ late: 1, lateDropped: 0 });
      // tuples of [0, 1000) waited for the end of its lateness; the late one is acked at once
      await until(() => ledger.acked.length === 5, 'acks');
      expect([...ledger.acked].sort()).toEqual([0, 1, 3, 6, 8]);
    } finally {
      await cluster.close();
    }
  });

  it('hands execute(window) the updated window, marked as an update, with the late tuples as new', async () => {
    const fired: Fired[] = [];
    const ledger = new SpoutLedger();
    const gate = { open: 0 };
    const { cluster } = await run((b) => {
      b.setSpout('s', () => new GatedSpout(input, gate, ledger, ['value', 'ts']));
      b.setBolt('w', () => new RecordingWindowBolt(fired).withTumblingWindow(Duration.seconds(1)).withTimestampField('ts').withAllowedLateness(Duration.seconds(2))).shuffleGrouping('s');
    });
    try {
      for (let n = 1; n <= 5; n++) {
        gate.open = n;
        await executedAll(cluster, 'w', n);
      }
      expect(fired.map((f) => [f.start, f.values, f.fresh, f.update])).toEqual([
        [0, [0, 1], [0, 1], false],
        [0, [0, 1, 3], [3], true],
        [1000, [2], [2], false],
      ]);
    } finally {
      await cluster.close();
    }
  });
});
