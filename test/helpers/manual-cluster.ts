import { TopologyBuilder, type TopologyConfig } from '../../topology-api';
import { ManualClock } from '../../common/clock';
import { LocalCluster } from '../../local/local-cluster';

export interface ManualClusterFixture {
  readonly clock: ManualClock;
  readonly cluster: LocalCluster;
  /** Builds a topology with `build` and submits it as `name` (default 't'). */
  submit(build: (b: TopologyBuilder) => void, conf?: TopologyConfig, name?: string): Promise<void>;
}

/**
 * For a describe block: a fresh LocalCluster on a ManualClock (seeded) before each test, closed
 * after it. Read `clock` and `cluster` inside tests, not at definition time.
 */
export function useManualCluster(seed: number): ManualClusterFixture {
  let clock: ManualClock;
  let cluster: LocalCluster;
  beforeEach(() => {
    clock = new ManualClock();
    cluster = new LocalCluster({ clock, seed });
  });
  afterEach(async () => {
    await cluster.close();
  });
  return {
    get clock() {
      return clock;
    },
    get cluster() {
      return cluster;
    },
    async submit(build, conf = {}, name = 't') {
      const b = new TopologyBuilder();
      build(b);
      await cluster.submitTopology(name, conf, b);
    },
  };
}
