/**
 * Stats through the real pipeline in LocalCluster: in-process workers heartbeat on a manual clock,
 * their supervisors send the signed reports to Nimbus, and Nimbus's REST views (the objects the
 * REST routes serve) show windows, percentiles, per-executor rows and user metrics summed over
 * tasks and two workers.
 */
import { BaseRichBolt, TopologyBuilder, type Counter, type Meter, type MetricHistogram, type OutputCollector, type OutputFieldsDeclarer, type TopologyConfig, type TopologyContext, type Tuple } from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import { LocalCluster } from '../../../local/local-cluster';
import { ListSpout, SpoutLedger, turns, until } from '../../helpers/components';
import { parseExposition, sumOf } from '../../helpers/prometheus-parser';

const N = 400;

/** Counts what it sees in user metrics of every kind, then acks. */
class MeteredBolt extends BaseRichBolt {
  private collector!: OutputCollector;
  private seen!: Counter;
  private values!: MetricHistogram;
  private rate!: Meter;
  private held = 0;
  prepare(_conf: Readonly<TopologyConfig>, ctx: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
    this.seen = ctx.registerCounter('tuples.seen');
    this.values = ctx.registerHistogram('tuple.value');
    this.rate = ctx.registerMeter('tuples.rate');
    ctx.registerGauge('held', () => this.held);
    expect(ctx.registerCounter('tuples.seen')).toBe(this.seen);
    expect(() => ctx.registerMeter('tuples.seen')).toThrow(expect.objectContaining({ code: 'ERR_METRIC_INVALID' }));
  }
  execute(t: Tuple): void {
    this.seen.inc();
    this.rate.mark();
    this.values.update(t.getInteger(0) % 100);
    this.held++;
    this.collector.ack(t);
  }
  declareOutputFields(_d: OutputFieldsDeclarer): void {}
}

describe('stats through LocalCluster', () => {
  let clock: ManualClock;
  let cluster: LocalCluster;
  beforeEach(() => {
    clock = new ManualClock();
    cluster = new LocalCluster({ clock, seed: 7 });
  });
  afterEach(() => cluster.close());

  async function heartbeats(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      clock.advance(1_000);
      await turns(10);
    }
  }

  /** Runs N tuples over two workers and waits until Nimbus has heard of every ack. */
  async function runMetered() {
    const ledger = new SpoutLedger();
    const b = new TopologyBuilder();
    b.setSpout('numbers', () => new ListSpout(Array.from({ length: N }, (_, i) => [i]), ledger), 1);
    b.setBolt('metered', () => new MeteredBolt(), 4).shuffleGrouping('numbers');
    await cluster.submitTopology('metered', { 'topology.workers': 2 }, b);
    await until(() => ledger.acked.length === N, 'every tuple acked');
    const nimbus = await cluster.nimbusApi();
    await heartbeats(3);
    await until(async () => (await nimbus.topologyPage('metered')).topologyStats[3].acked === N, 'the acks reported to Nimbus');
    return nimbus;
  }

  it('serves windows, percentiles, per-executor rows and user metrics summed over two workers', async () => {
    const nimbus = await runMetered();
    let page = await nimbus.topologyPage('metered');

    expect(page.workers.map((w) => w.state)).toEqual(['running', 'running']);
    expect(page.topologyStats.map((w) => [w.window, w.acked])).toEqual([
      ['600', N],
      ['10800', N],
      ['86400', N],
      [':all-time', N],
    ]);
    const spout = page.spouts[0];
    expect(spout).toMatchObject({ spoutId: 'numbers', emitted: N, acked: N });
    const p = [spout.completeLatencyP50, spout.completeLatencyP90, spout.completeLatencyP99, spout.completeLatencyP999].map(Number);
    expect(p).toEqual([...p].sort((x, y) => x - y));

    const comp = await nimbus.componentPage('metered', 'metered', { window: '600' });
    expect(comp).toMatchObject({ window: '600', windowPretty: '10m 0s', executors: 4 });
    expect(comp.executorStats).toHaveLength(4);
    expect(new Set(comp.executorStats.map((e) => e.port)).size).toBe(2);
    expect(comp.executorStats.reduce((n, e) => n + e.executed, 0)).toBe(N);
    expect(comp.boltStats?.map((r) => r.executed)).toEqual([N, N, N, N]);
    expect(comp.inputStats).toEqual([{ component: 'numbers', stream: 'default', grouping: 'shuffle', executed: N, acked: N, failed: 0 }]);
    expect(comp.latencyDistribution).toMatchObject({ kind: 'execute', count: N });
    // User metrics: every task of both workers, summed.
    const metric = (name: string) => comp.metrics.find((m) => m.name === name);
    expect(metric('tuples.seen')).toEqual({ name: 'tuples.seen', type: 'counter', count: N });
    expect(metric('tuples.rate')).toEqual({ name: 'tuples.rate', type: 'meter', count: N, ratePerSec: Math.round((N / 600) * 1000) / 1000 });
    expect(metric('tuple.value')).toMatchObject({ type: 'histogram', count: N, mean: 49.5 });
    expect(metric('held')).toMatchObject({ type: 'gauge', value: N, tasks: 4 });
    const perExecutor = comp.executorStats.map((e) => e.metrics.find((m) => m.name === 'tuples.seen'));
    expect(perExecutor.reduce((n, m) => n + (m && m.type === 'counter' ? m.count : 0), 0)).toBe(N);

    const viz = await nimbus.visualization('metered');
    expect(viz.components.metered.inputs[0]).toMatchObject({ component: 'numbers', stream: 'default', grouping: 'shuffle' });
    expect(viz.components.metered.inputs[0].tuplesPerSec).toBeGreaterThan(0);

    // Eleven minutes later the 10-minute window is empty; all time is not.
    await heartbeats(1);
    clock.advance(11 * 60_000);
    await heartbeats(2);
    page = await nimbus.topologyPage('metered', { window: '600' });
    expect(page.topologyStats[0].acked).toBe(0);
    expect(page.topologyStats[3].acked).toBe(N);
    expect(page.spouts[0].acked).toBe(0);
  });

  it('exports /metrics as valid Prometheus exposition whose counters match REST, user metrics over both workers', async () => {
    const nimbus = await runMetered();
    const text = await nimbus.prometheusMetrics();
    const families = parseExposition(text);
    expect(text.split('\n').filter((l) => / Nan$/.test(l) && l.startsWith('squall_') && !l.startsWith('squall_nimbus_'))).toEqual([]);
    const page = await nimbus.topologyPage('metered', { includeSystem: true });
    const t = { topology: 'metered' };
    for (const c of [...page.spouts.map((x) => ({ id: x.spoutId, ...x, executed: 0 })), ...page.bolts.map((x) => ({ id: x.boltId, ...x }))]) {
      const l = { ...t, component: c.id };
      expect([c.id, sumOf(families, 'squall_emitted_total', l), sumOf(families, 'squall_transferred_total', l), sumOf(families, 'squall_acked_total', l), sumOf(families, 'squall_failed_total', l)]).toEqual([
        c.id,
        c.emitted,
        c.transferred,
        c.acked,
        c.failed,
      ]);
      if (c.id !== 'numbers') expect(sumOf(families, 'squall_executed_total', l)).toBe(c.executed);
    }
    expect(sumOf(families, 'squall_complete_latency_seconds_count', t)).toBe(N);
    expect(sumOf(families, 'squall_execute_latency_seconds_count', { ...t, component: 'metered' })).toBe(N);
    expect(sumOf(families, 'squall_user_counter_total', { ...t, metric: 'tuples.seen' })).toBe(N);
    expect(sumOf(families, 'squall_user_meter_total', { ...t, metric: 'tuples.rate' })).toBe(N);
    expect(sumOf(families, 'squall_user_histogram_count', { ...t, metric: 'tuple.value' })).toBe(N);
    expect(sumOf(families, 'squall_user_gauge', { ...t, metric: 'held' })).toBe(N);
    expect(new Set(families.get('squall_user_counter_total')!.samples.map((x) => x.labels.executor)).size).toBe(4);
    expect(sumOf(families, 'squall_topology_workers', t)).toBe(2);
    expect(sumOf(families, 'squall_supervisors')).toBe(1);
    expect(sumOf(families, 'squall_slots_used')).toBe(2);
    expect(families.get('squall_worker_restarts_total')!.samples).toHaveLength(2);
    expect(families.has('squall_nimbus_process_resident_memory_bytes')).toBe(true);
    expect(sumOf(families, 'squall_supervisor_resident_memory_bytes')).toBeGreaterThan(0);
  });
});

describe('the exposition parser used above', () => {
  it('refuses what Prometheus would refuse', () => {
    const ok = '# TYPE a counter\na 1\n';
    expect(parseExposition(ok).get('a')!.samples[0].value).toBe(1);
    for (const bad of [
      'a 1\n', // no TYPE
      '# TYPE a counter\na{x="1} 1\n', // unterminated
      '# TYPE a counter\na{x="\\q"} 1\n', // bad escape
      '# TYPE a counter\na 1\na 2\n', // duplicate series
      '# TYPE a counter\na -1\n', // negative counter
      '# TYPE a gauge\n# TYPE b gauge\nb 1\na 1\n', // a outside its block
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', // not cumulative
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', // no +Inf
      '# TYPE a counter\na 1', // no final newline
    ]) {
      expect(() => parseExposition(bad)).toThrow();
    }
  });
});
