import {
  BaseRichSpout,
  BaseStatefulBolt,
  Config,
  errorCode,
  isReplayableSpout,
  isStatefulBolt,
  resolveTopologyConfig,
  topologyConfigProblems,
  type KeyValueState,
  type Tuple,
} from '../../../topology-api';

class Counter extends BaseStatefulBolt<KeyValueState<string, number>> {
  state: KeyValueState<string, number> | null = null;
  execute(input: Tuple): void {
    const word = input.getStringByField('word');
    this.state!.put(word, this.state!.get(word, 0) + 1);
  }
  initState(state: KeyValueState<string, number>): void {
    this.state = state;
  }
}

class Replayable extends BaseRichSpout {
  open(): void {}
  nextTuple(): void {}
  declareOutputFields(): void {}
  offsets(): unknown {
    return 0;
  }
  seek(): void {}
}

class Plain extends BaseRichSpout {
  open(): void {}
  nextTuple(): void {}
  declareOutputFields(): void {}
}

describe('state API', () => {
  it('marks stateful bolts (duck-typed, as a bundle carries its own copy)', () => {
    const bolt = new Counter();
    expect(isStatefulBolt(bolt)).toBe(true);
    expect(isStatefulBolt({ 'squall.statefulBolt': true })).toBe(true);
    expect(isStatefulBolt({ execute() {} })).toBe(false);
    expect(isStatefulBolt(null)).toBe(false);
    // the hooks have no-op defaults
    expect(() => {
      bolt.prePrepare(1);
      bolt.preCommit(1);
      bolt.preRollback();
    }).not.toThrow();
  });

  it('recognises replayable spouts by offsets() and seek()', () => {
    expect(isReplayableSpout(new Replayable())).toBe(true);
    expect(isReplayableSpout(new Plain())).toBe(false);
    expect(isReplayableSpout({ offsets: () => 1 })).toBe(false);
  });

  it('has Storm’s config keys with defaults: sqlite, 1000 ms, 128 key groups', () => {
    const conf = resolveTopologyConfig({});
    expect(conf[Config.TOPOLOGY_STATE_PROVIDER]).toBe('sqlite');
    expect(conf['topology.state.checkpoint.interval.ms']).toBe(1000);
    expect(conf['topology.state.max.key.groups']).toBe(128);
    expect(conf['topology.state.provider.config']).toBeNull();
  });

  it('validates the provider and its config, listing every problem', () => {
    expect(topologyConfigProblems({ 'topology.state.provider': 'redis', 'topology.state.provider.config': { url: 'redis://127.0.0.1:6380', keyPrefix: 'x:' } })).toEqual([]);
    expect(topologyConfigProblems({ 'topology.state.provider': 'redis', 'topology.state.provider.config': '{"url":"redis://h:1","db":2}' })).toEqual([]);
    expect(topologyConfigProblems({ 'topology.state.provider.config': { dir: '/var/lib/squall' } })).toEqual([]); // sqlite by default
    const problems = topologyConfigProblems({
      'topology.state.provider': 'redis',
      'topology.state.provider.config': { url: 'http://x', dir: '/tmp', commandTimeoutMs: 0 },
      'topology.state.checkpoint.interval.ms': 0,
      'topology.state.max.key.groups': 40000,
    });
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/url" must be a redis:\/\//);
    expect(problems.join('\n')).toMatch(/has "dir", which the redis provider does not know/);
    expect(topologyConfigProblems({ 'topology.state.provider': 'rocksdb' })).toEqual(['"topology.state.provider" must be one of memory, sqlite, redis (got "rocksdb")']);
    expect(topologyConfigProblems({ 'topology.state.provider.config': '{bad' })).toHaveLength(1);
    expect(topologyConfigProblems({ 'topology.state.provider': 'memory', 'topology.state.provider.config': { dir: 'x' } })).toHaveLength(1);
    try {
      resolveTopologyConfig({ 'topology.state.provider': 'memory', 'topology.state.provider.config': [] });
      throw new Error('accepted');
    } catch (err) {
      expect(errorCode(err)).toBe('ERR_CONFIG_INVALID');
    }
  });
});
