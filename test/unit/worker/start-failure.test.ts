/**
 * A component that throws in prepare or open fails the worker's start (ERR_WORKER_START_FAILED),
 * and the worker then closes: close must call cleanup and close only on what start() made. It
 * called them on every task, so the bolt that threw was cleaned up without being prepared, and
 * tasks never created (undefined) threw inside close — reported as errors of spouts that never ran.
 */
import {
  BaseRichBolt,
  BaseRichSpout,
  resolveTopologyConfig,
  TopologyBuilder,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type Tuple,
} from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import { silentLogger } from '../../../common/logging';
import { WorkerRuntime } from '../../../worker/runtime';
import type { ReportedError } from '../../../worker/runtime';

interface Log {
  calls: string[];
}

class Spout extends BaseRichSpout {
  constructor(private readonly log: Log) {
    super();
  }
  open(_c: unknown, _x: unknown, _collector: SpoutOutputCollector): void {
    this.log.calls.push('spout.open');
  }
  nextTuple(): void {}
  close(): void {
    this.log.calls.push('spout.close');
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['v']);
  }
}

class Bolt extends BaseRichBolt {
  constructor(
    private readonly name: string,
    private readonly log: Log,
    private readonly throws: boolean,
  ) {
    super();
  }
  prepare(): void {
    this.log.calls.push(`${this.name}.prepare`);
    if (this.throws) throw new Error(`${this.name} cannot start`);
  }
  execute(_t: Tuple): void {}
  cleanup(): void {
    this.log.calls.push(`${this.name}.cleanup`);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['v']);
  }
}

function runtimeWith(log: Log, throwing: 'first' | 'second' | 'none'): { runtime: WorkerRuntime; errors: ReportedError[] } {
  const b = new TopologyBuilder();
  b.setSpout('spout', () => new Spout(log));
  b.setBolt('first', () => new Bolt('first', log, throwing === 'first')).shuffleGrouping('spout');
  b.setBolt('second', () => new Bolt('second', log, throwing === 'second')).shuffleGrouping('first');
  const topology = b.createTopology();
  log.calls.length = 0; // createTopology made instances to declare outputs
  const errors: ReportedError[] = [];
  const runtime = new WorkerRuntime({
    topologyId: 'start-failure-1',
    definition: topology.definition,
    factories: topology.factories,
    config: resolveTopologyConfig(topology.config, { 'topology.random.seed': 1 }),
    clock: new ManualClock(),
    logger: silentLogger(),
    onError: (e) => errors.push(e),
  });
  return { runtime, errors };
}

describe('WorkerRuntime: close after a failed start', () => {
  it('cleans up only the bolts that were prepared and closes no spout that was never opened', () => {
    const log: Log = { calls: [] };
    const { runtime, errors } = runtimeWith(log, 'second');
    expect(() => runtime.start()).toThrow(expect.objectContaining({ code: 'ERR_WORKER_START_FAILED' }));
    runtime.close();
    expect(log.calls.filter((c) => !c.endsWith('.prepare') && !c.endsWith('.open'))).toEqual(['first.cleanup']);
    expect(log.calls).not.toContain('spout.open');
    expect(errors).toEqual([]);
  });

  it('after a normal start, close reaches every spout and bolt', () => {
    const log: Log = { calls: [] };
    const { runtime, errors } = runtimeWith(log, 'none');
    runtime.start();
    runtime.close();
    expect(log.calls.filter((c) => c.endsWith('.close') || c.endsWith('.cleanup')).sort()).toEqual(['first.cleanup', 'second.cleanup', 'spout.close']);
    expect(errors).toEqual([]);
  });
});
