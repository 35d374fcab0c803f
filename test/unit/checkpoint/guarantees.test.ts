import { BaseRichBolt, BaseRichSpout, SentenceGeneratorSpout, TopologyBuilder, resolveTopologyConfig, type Tuple } from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import { errorCode } from '../../../common/errors';
import { checkGuarantee } from '../../../common/guarantees';
import { computeLayout } from '../../../common/topology-layout';
import { LocalCluster } from '../../../local/local-cluster';

class PlainSpout extends BaseRichSpout {
  open(): void {}
  nextTuple(): void {}
  declareOutputFields(d: { declare(f: string[]): void }): void {
    d.declare(['sentence']);
  }
}

class Stateful extends BaseRichBolt {
  prepare(): void {}
  initState(): void {}
  execute(_t: Tuple): void {}
  declareOutputFields(d: { declare(f: string[]): void }): void {
    d.declare(['sentence']);
  }
}

function build(spout: () => BaseRichSpout, opts: { loop?: boolean } = {}): TopologyBuilder {
  const b = new TopologyBuilder();
  b.setSpout('s', spout);
  const bolt = b.setBolt('b', () => new Stateful()).shuffleGrouping('s');
  if (opts.loop) bolt.shuffleGrouping('b');
  return b;
}

function caught(fn: () => void): { code: string | undefined; problems: readonly string[] } {
  try {
    fn();
  } catch (err) {
    return { code: errorCode(err), problems: (err as { problems?: string[] }).problems ?? [] };
  }
  return { code: undefined, problems: [] };
}

describe('processing guarantees', () => {
  it('marks stateful bolts and replayable spouts in the definition', () => {
    const def = build(() => new SentenceGeneratorSpout()).createTopology().definition;
    expect(def.bolts.b.stateful).toBe(true);
    expect(def.spouts.s.replayable).toBe(true);
    const plain = build(() => new PlainSpout()).createTopology().definition;
    expect(plain.spouts.s.replayable).toBeUndefined();
  });

  it('lays out the acker only for at-least-once, the coordinator only when the topology checkpoints', () => {
    const def = build(() => new SentenceGeneratorSpout()).createTopology().definition;
    const at = (g: string) => computeLayout(def, resolveTopologyConfig({ 'topology.processing.guarantee': g }));
    expect(at('at-least-once').ackerTasks).toHaveLength(1);
    expect(at('at-most-once').ackerTasks).toHaveLength(0);
    expect(at('exactly-once').ackerTasks).toHaveLength(0);
    // tasks: __acker 1, __checkpointspout 2, b 3, s 4
    expect(at('at-least-once').coordinatorTask).toBe(2);
    expect(at('exactly-once').coordinatorTask).toBe(1);
    const stateless = new TopologyBuilder();
    stateless.setSpout('s', () => new PlainSpout());
    expect(computeLayout(stateless.createTopology().definition, resolveTopologyConfig({})).coordinatorTask).toBe(0);
  });

  it('refuses exactly-once with a spout that cannot rewind, naming it', () => {
    const def = build(() => new PlainSpout()).createTopology().definition;
    const err = caught(() => checkGuarantee(def, resolveTopologyConfig({ 'topology.processing.guarantee': 'exactly-once' })));
    expect(err.code).toBe('ERR_SPOUT_NOT_REPLAYABLE');
    expect(err.problems.join()).toContain('spout "s"');
    expect(caught(() => checkGuarantee(def, resolveTopologyConfig({}))).code).toBeUndefined();
  });

  it('refuses a checkpointed topology with a cycle, or a checkpoint interval over the message timeout', () => {
    const loop = build(() => new SentenceGeneratorSpout(), { loop: true }).createTopology().definition;
    expect(caught(() => checkGuarantee(loop, resolveTopologyConfig({}))).code).toBe('ERR_TOPOLOGY_INVALID');
    const def = build(() => new SentenceGeneratorSpout()).createTopology().definition;
    const slow = resolveTopologyConfig({ 'topology.message.timeout.secs': 1, 'topology.state.checkpoint.interval.ms': 1000 });
    expect(caught(() => checkGuarantee(def, slow)).problems.join()).toContain('topology.state.checkpoint.interval.ms');
  });

  it('Nimbus (and so squall local) refuses exactly-once with a plain spout at submission', async () => {
    const cluster = new LocalCluster({ clock: new ManualClock() });
    try {
      await expect(cluster.submitTopology('plain', { 'topology.processing.guarantee': 'exactly-once' }, build(() => new PlainSpout()))).rejects.toMatchObject({ code: 'ERR_SPOUT_NOT_REPLAYABLE' });
      expect(await cluster.getTopologyNames()).toEqual([]);
    } finally {
      await cluster.close();
    }
  });
});
