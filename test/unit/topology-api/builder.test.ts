import { BaseBasicBolt, Fields, TopologyBuilder, errorCode, resolveTopologyConfig, type OutputFieldsDeclarer, type SquallError } from '../../../topology-api';
import { ListSpout, RecordingBolt, SpoutLedger } from '../../helpers/components';

class Passthrough extends BaseBasicBolt {
  constructor(private readonly fields: string[] = ['value']) {
    super();
  }
  execute(): void {}
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(new Fields(...this.fields));
  }
}

function problemsOf(build: () => unknown): string[] {
  try {
    build();
  } catch (err) {
    expect(errorCode(err)).toBe('ERR_TOPOLOGY_INVALID');
    return [...(err as SquallError).problems];
  }
  throw new Error('expected ERR_TOPOLOGY_INVALID');
}

const spout = () => new ListSpout([], new SpoutLedger(), { fields: ['word', 'n'] });

describe('TopologyBuilder validation', () => {
  it('creates a plain, serializable definition', () => {
    const b = new TopologyBuilder();
    b.setSpout('words', spout, 2);
    b.setBolt('count', () => new Passthrough(), 3).setNumTasks(6).fieldsGrouping('words', ['word']).addConfiguration('topology.tick.tuple.freq.secs', 5);
    const t = b.createTopology();
    expect(JSON.parse(JSON.stringify(t.definition))).toEqual({
      spouts: { words: { parallelism: 2, numTasks: 2, config: {}, streams: { default: { fields: ['word', 'n'], direct: false } }, inputs: [] } },
      bolts: {
        count: {
          parallelism: 3,
          numTasks: 6,
          config: { 'topology.tick.tuple.freq.secs': 5 },
          streams: { default: { fields: ['value'], direct: false } },
          inputs: [{ component: 'words', stream: 'default', grouping: { type: 'fields', fields: ['word'] } }],
        },
      },
    });
  });

  it('lists every problem at once', () => {
    const problems = problemsOf(() => {
      const b = new TopologyBuilder();
      b.setSpout('words', spout);
      b.setSpout('words', spout);
      b.setBolt('__system2', () => new Passthrough()).shuffleGrouping('words');
      b.setBolt('a', () => new Passthrough(), 0).shuffleGrouping('nope');
      b.setBolt('b', () => new Passthrough()).shuffleGrouping('words', 'missing');
      b.setBolt('c', () => new Passthrough()).fieldsGrouping('words', ['colour']);
      return b.createTopology();
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('"words" is used twice'),
        expect.stringContaining('"__system2" starts with "__"'),
        expect.stringContaining('"a": parallelism must be an integer >= 1'),
        expect.stringContaining('unknown source component "nope"'),
        expect.stringContaining('declares no stream "missing"'),
        expect.stringContaining('field "colour", which the stream does not declare'),
      ]),
    );
    expect(problems).toHaveLength(6);
  });

  it('refuses a topology without spouts, reserved stream names and direct mismatches', () => {
    expect(problemsOf(() => new TopologyBuilder().createTopology())).toEqual(['a topology needs at least one spout']);
    class DirectOut extends BaseBasicBolt {
      execute(): void {}
      declareOutputFields(d: OutputFieldsDeclarer): void {
        d.declare(true, ['x']);
        d.declareStream('__mine', ['y']);
      }
    }
    const problems = problemsOf(() => {
      const b = new TopologyBuilder();
      b.setSpout('s', spout);
      b.setBolt('d', () => new DirectOut()).shuffleGrouping('s');
      b.setBolt('e', () => new Passthrough()).shuffleGrouping('d');
      b.setBolt('f', () => new Passthrough()).directGrouping('s');
      return b.createTopology();
    });
    expect(problems).toEqual([
      'component "d": stream "__mine" starts with "__", which is reserved for system streams',
      'bolt "e" input d:default: stream is direct, so it must be subscribed with directGrouping',
      'bolt "f" input s:default: directGrouping needs a stream declared direct',
    ]);
  });

  it('reports a component that throws while declaring', () => {
    class Broken extends BaseBasicBolt {
      execute(): void {}
      declareOutputFields(): void {
        throw new Error('boom');
      }
    }
    const b = new TopologyBuilder();
    b.setSpout('s', spout);
    b.setBolt('x', () => new Broken()).shuffleGrouping('s');
    expect(problemsOf(() => b.createTopology())).toEqual(['component "x" threw while declaring its outputs: boom']);
  });

  it('gives every task its own copy of a component instance', () => {
    const b = new TopologyBuilder();
    const seen: never[] = [];
    b.setSpout('s', new ListSpout([[1]], new SpoutLedger()));
    b.setBolt('r', new RecordingBolt(seen), 2).shuffleGrouping('s');
    const t = b.createTopology();
    const one = t.factories.bolts.r();
    const two = t.factories.bolts.r();
    expect(one).not.toBe(two);
    expect(one).toBeInstanceOf(RecordingBolt);
    expect((one as unknown as { seen: unknown[] }).seen).not.toBe((two as unknown as { seen: unknown[] }).seen);
  });
});

describe('topology configuration', () => {
  it('fills defaults and freezes', () => {
    const conf = resolveTopologyConfig({ 'topology.workers': 3, 'my.own.key': 'x' });
    expect(conf['topology.workers']).toBe(3);
    expect(conf['topology.message.timeout.secs']).toBe(30);
    expect(conf['topology.acker.executors']).toBeNull();
    expect(conf['my.own.key']).toBe('x');
    expect(Object.isFrozen(conf)).toBe(true);
  });

  it('rejects bad values and unknown topology keys, listing them all', () => {
    try {
      resolveTopologyConfig({ 'topology.workers': 0, 'topology.max.spout.pending': 'ten', 'topology.worker': 2, 'topology.debug': 1 });
      throw new Error('expected an error');
    } catch (err) {
      expect(errorCode(err)).toBe('ERR_CONFIG_INVALID');
      expect((err as SquallError).problems).toEqual([
        '"topology.workers" must be an integer from 1 to 1024 (got 0)',
        '"topology.max.spout.pending" must be an integer from 1 to 9007199254740991 (got "ten")',
        'unknown key "topology.worker" (did you mean "topology.workers"?)',
        '"topology.debug" must be true or false (got 1)',
      ]);
    }
  });

  it('refuses topology-wide keys in component configuration', () => {
    const b = new TopologyBuilder();
    b.setSpout('s', spout).addConfiguration('topology.workers', 2);
    expect(problemsOf(() => b.createTopology())).toEqual(['component "s" configuration: "topology.workers" cannot be set per component']);
  });
});
