/**
 * ZooKeeper writes per second of a running 4-worker topology (docs/benchmarks.md), counted at the
 * cluster-state store over 60 s of a manual clock with the default daemon timings: supervisor
 * node refresh every 5 s, worker heartbeats every second, nimbus.task.timeout.secs 30. Stats go to
 * Nimbus, not to cluster state; each worker's liveness record is written every 10 s.
 * SQUALL_PRINT_ZK_WRITES=1 prints the figures.
 */
import { BaseBasicBolt, TopologyBuilder } from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import { LocalCluster } from '../../../local/local-cluster';
import { countStateWrites } from '../../helpers/counting-store';
import { ListSpout, SpoutLedger, turns, until } from '../../helpers/components';

class Sink extends BaseBasicBolt {
  execute(): void {}
  declareOutputFields(): void {}
}

describe('cluster-state writes of a 4-worker topology', () => {
  it('are small and infrequent: a liveness record per worker every 10 s and the supervisor node every 5 s', async () => {
    const clock = new ManualClock();
    const cluster = new LocalCluster({ clock, seed: 3, daemonConfig: { 'nimbus.task.timeout.secs': 30 } });
    const counter = countStateWrites();
    try {
      const ledger = new SpoutLedger();
      const b = new TopologyBuilder();
      b.setSpout('s', () => new ListSpout(Array.from({ length: 200 }, (_, i) => [i]), ledger), 4);
      b.setBolt('sink', () => new Sink(), 8).shuffleGrouping('s');
      await cluster.submitTopology('four', { 'topology.workers': 4 }, b);
      await until(() => ledger.emitted.length === 800, 'every tuple emitted');
      for (let i = 0; i < 20; i++) {
        clock.advance(1_000);
        await turns(5);
      }
      counter.reset();
      const secs = 60;
      for (let i = 0; i < secs * 10; i++) {
        clock.advance(100);
        await turns(2);
      }
      const perSec = counter.counts.writes / secs;
      const bytesPerSec = counter.counts.bytes / secs;
      if (process.env.SQUALL_PRINT_ZK_WRITES) process.stdout.write(`${JSON.stringify({ secs, perSec, bytesPerSec, byKind: counter.counts.byKind })}\n`);
      // 4 workers / 10 s + 1 supervisor / 5 s = 0.6 writes/s.
      expect(counter.counts.byKind.workerbeats?.writes).toBe(24);
      expect(counter.counts.byKind.supervisors?.writes).toBe(12);
      expect(perSec).toBeCloseTo(0.6, 5);
      expect(bytesPerSec).toBeLessThan(200);
    } finally {
      counter.restore();
      await cluster.close();
    }
  });
});
