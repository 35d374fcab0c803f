/** A benchmark topology on one WorkerRuntime in this process: no links, no serialization. */
import { resolveTopologyConfig, type TopologyBuilder, type TopologyConfig } from '../topology-api';
import { SystemClock } from '../common/clock';
import { silentLogger } from '../common/logging';
import { WorkerRuntime } from '../worker/runtime';
import { benchTopology, type BenchTopology } from './components';
import type { Snapshot } from './measure';

export class InProcessRun {
  private constructor(private readonly rt: WorkerRuntime) {}

  /** Any topology (the connector and ad-campaigns scenarios). */
  static startBuilder(builder: TopologyBuilder, config: TopologyConfig): InProcessRun {
    return InProcessRun.start(builder, config);
  }

  /** A benchmark topology by name, or any builder. */
  static start(name: BenchTopology | TopologyBuilder, config: TopologyConfig, parallelism = 1): InProcessRun {
    const topo = (typeof name === 'string' ? benchTopology(name, parallelism) : name).createTopology();
    const rt = new WorkerRuntime({
      topologyId: 'bench',
      definition: topo.definition,
      factories: topo.factories,
      config: resolveTopologyConfig(topo.config ?? {}, config),
      clock: new SystemClock(),
      logger: silentLogger(),
      seed: 1,
    });
    rt.start();
    return new InProcessRun(rt);
  }

  snapshot(): Promise<Snapshot> {
    return Promise.resolve([{ worker: 'in-process', atMs: performance.now(), stats: this.rt.stats() }]);
  }

  /** The worker is this process. */
  pids(): number[] {
    return [process.pid];
  }

  setActive(active: boolean): void {
    this.rt.setActive(active);
  }

  close(): Promise<void> {
    this.rt.close();
    return Promise.resolve();
  }
}
