import {
  BaseBasicBolt,
  resolveTopologyConfig,
  topologyConfigProblems,
  BaseRichBolt,
  FailedException,
  TopologyBuilder,
  errorCode,
  type BasicOutputCollector,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from '../../../topology-api';
import { useManualCluster } from '../../helpers/manual-cluster';
import type { BoltTask } from '../../../worker/tasks';
import { FlakySink, ListSpout, RecordingBolt, SpoutLedger, sorted, turns, until, type Seen } from '../../helpers/components';

const range = (n: number): unknown[][] => Array.from({ length: n }, (_, i) => [i]);
const ids = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
/** A turn of the event loop: what an awaited I/O call costs at least. */
const io = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Promises the test settles by hand, by the value of the input they belong to. */
class Gates {
  private readonly waiting = new Map<unknown, { resolve: () => void; reject: (e: unknown) => void }>();
  started: unknown[] = [];
  wait(key: unknown): Promise<void> {
    this.started.push(key);
    return new Promise<void>((resolve, reject) => this.waiting.set(key, { resolve, reject }));
  }
  get size(): number {
    return this.waiting.size;
  }
  keys(): unknown[] {
    return [...this.waiting.keys()];
  }
  resolve(key: unknown): void {
    const g = this.waiting.get(key)!;
    this.waiting.delete(key);
    g.resolve();
  }
  reject(key: unknown, err: unknown): void {
    const g = this.waiting.get(key)!;
    this.waiting.delete(key);
    g.reject(err);
  }
}

/**
 * Waits for its gate, then emits its input's value (a basic bolt: anchored). Inputs for which
 * `sync` holds are handled synchronously. Keeps each input's collector in `collectors`.
 */
class GatedEcho extends BaseBasicBolt {
  constructor(
    private readonly gates: Gates,
    private readonly opts: { sync?: (v: number) => boolean; collectors?: Map<unknown, BasicOutputCollector> } = {},
  ) {
    super();
  }
  execute(t: Tuple, c: BasicOutputCollector): Promise<void> | void {
    const v = t.getValue(0) as number;
    this.opts.collectors?.set(v, c);
    if (this.opts.sync?.(v)) {
      c.emit([v]);
      return;
    }
    return this.gates.wait(v).then(() => {
      c.emit([v]);
    });
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['value']);
  }
}

const valuesOf = (seen: readonly Seen[]): unknown[] => seen.map((x) => x.values[0]);

/** Awaits some I/O, then emits its input's value (anchored: a basic bolt). Throws after the await for values in `failing`, once each. */
class AsyncEcho extends BaseBasicBolt {
  private readonly failedOnce = new Set<unknown>();
  constructor(private readonly failing: Set<unknown> = new Set(), private readonly throwWith: 'error' | 'failed' = 'error') {
    super();
  }
  async execute(t: Tuple, c: BasicOutputCollector): Promise<void> {
    const v = t.getValue(0);
    await io();
    await io();
    if (this.failing.has(v) && !this.failedOnce.has(v)) {
      this.failedOnce.add(v);
      throw this.throwWith === 'error' ? new Error(`lookup of ${String(v)} failed`) : new FailedException('not now');
    }
    c.emit([v]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['value']);
  }
}

describe('async bolts', () => {
  const fx = useManualCluster(17);
  const submit = fx.submit;

  async function boltTasks(component: string): Promise<BoltTask[]> {
    const out: BoltTask[] = [];
    for (const rt of await fx.cluster.workerRuntimes('t')) {
      for (const id of rt.layout.componentTasks[component]) {
        const task = rt.boltTask(id);
        if (task) out.push(task);
      }
    }
    return out;
  }

  async function executorStats(component: string) {
    return (await fx.cluster.getTopologyInfo('t')).executors.filter((e) => e.component === component);
  }

  // ---- basic bolts ----------------------------------------------------------------------------

  it('replays the spout tuple of a basic bolt that throws after an await, and reports the error', async () => {
    const ledger = new SpoutLedger();
    const seen: Seen[] = [];
    await submit((b) => {
      b.setSpout('s', () => new ListSpout(range(20), ledger, { replay: true }));
      b.setBolt('lookup', () => new AsyncEcho(new Set([4, 9])), 2).shuffleGrouping('s');
      b.setBolt('sink', () => new RecordingBolt(seen), 1).shuffleGrouping('lookup');
    });
    await until(() => ledger.acked.length === 20, 'every tuple acked after the replays');
    expect(sorted(ledger.failed)).toEqual([4, 9]); // failed at once: the manual clock never moved
    expect(sorted(ledger.acked)).toEqual(ids(20));
    expect(seen).toHaveLength(20);
    const info = await fx.cluster.getTopologyInfo('t');
    expect(info.errors.lookup.map((e) => e.error.split('\n')[0]).sort()).toEqual(['Error: lookup of 4 failed', 'Error: lookup of 9 failed']);
    expect(info.errors.lookup[0]).toMatchObject({ host: expect.any(String), port: expect.any(Number) });
    expect(await fx.cluster.pendingCounts('t')).toEqual({ spoutPending: 0, ackerTrees: 0 });
  });

  it('fails without reporting when a basic bolt rejects with FailedException', async () => {
    const ledger = new SpoutLedger();
    await submit((b) => {
      b.setSpout('s', () => new ListSpout(range(10), ledger, { replay: true }));
      b.setBolt('lookup', () => new AsyncEcho(new Set([3]), 'failed'), 1).shuffleGrouping('s');
    });
    await until(() => ledger.acked.length === 10, 'acked after the replay');
    expect(ledger.failed).toEqual([3]);
    expect((await fx.cluster.getTopologyInfo('t')).errors.lookup ?? []).toEqual([]);
  });

  it('anchors emits made after awaits: a downstream failure replays the root', async () => {
    const ledger = new SpoutLedger();
    const seen: unknown[] = [];
    await submit((b) => {
      b.setSpout('s', () => new ListSpout(range(30), ledger, { replay: true }));
      b.setBolt('lookup', () => new AsyncEcho(), 3).shuffleGrouping('s');
      b.setBolt('sink', () => new FlakySink(new Set([5, 17, 29]), seen), 1).shuffleGrouping('lookup');
    });
    await until(() => ledger.acked.length === 30, 'all acked');
    // unanchored emits would have let the roots complete without the sink: no failures, no replays
    expect(sorted(ledger.failed)).toEqual([5, 17, 29]);
    expect(ledger.emitted).toHaveLength(33);
    expect(seen).toHaveLength(33);
  });

  it('keeps a root open until an emit made after an await is acked downstream', async () => {
    const ledger = new SpoutLedger();
    const held: Tuple[] = [];
    let sink!: OutputCollector;
    class Holder extends BaseRichBolt {
      prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, c: OutputCollector): void {
        sink = c;
      }
      execute(t: Tuple): void {
        held.push(t);
      }
    }
    await submit((b) => {
      b.setSpout('s', () => new ListSpout(range(3), ledger));
      b.setBolt('lookup', () => new AsyncEcho(), 1).shuffleGrouping('s');
      b.setBolt('hold', () => new Holder(), 1).shuffleGrouping('lookup');
    });
    await until(() => held.length === 3, 'emits after the awaits arrived');
    await turns(20);
    expect(ledger.acked).toEqual([]); // the lookup acked its inputs, but the emitted tuples are not acked yet
    for (const t of held) sink.ack(t);
    await until(() => ledger.acked.length === 3, 'roots complete');
  });

  it('refuses (ERR_EMIT_AFTER_SETTLE) and reports an emit through a basic collector after the promise settled', async () => {
    const ledger = new SpoutLedger();
    const seen: Seen[] = [];
    const errors: unknown[] = [];
    let late: BasicOutputCollector | null = null;
    class Leaky extends BaseBasicBolt {
      async execute(t: Tuple, c: BasicOutputCollector): Promise<void> {
        await io();
        c.emit([t.getValue(0)]);
        late = c;
      }
      declareOutputFields(d: OutputFieldsDeclarer): void {
        d.declare(['value']);
      }
    }
    await submit((b) => {
      b.setSpout('s', () => new ListSpout(range(1), ledger));
      b.setBolt('leaky', () => new Leaky(), 1).shuffleGrouping('s');
      b.setBolt('sink', () => new RecordingBolt(seen), 1).shuffleGrouping('leaky');
    });
    await until(() => ledger.acked.length === 1, 'acked');
    try {
      late!.emit(['again']);
    } catch (err) {
      errors.push(errorCode(err));
    }
    expect(errors).toEqual(['ERR_EMIT_AFTER_SETTLE']);
    await turns(10);
    expect(seen).toHaveLength(1);
    const reported = (await fx.cluster.getTopologyInfo('t')).errors.leaky;
    expect(reported).toHaveLength(1);
    expect(reported[0].error).toContain('after its input was acked or failed');
  });

  it('refuses an emit from a callback a synchronous basic execute left behind (its input was already acked)', async () => {
    const ledger = new SpoutLedger();
    const codes: unknown[] = [];
    const pending: Array<Promise<void>> = [];
    class FireAndForget extends BaseBasicBolt {
      execute(t: Tuple, c: BasicOutputCollector): void {
        // the promise is neither returned nor awaited: execute is synchronous, the input acked when it returns
        pending.push(
          io().then(() => {
            try {
              c.emit([t.getValue(0)]);
            } catch (err) {
              codes.push(errorCode(err));
            }
          }),
        );
      }
      declareOutputFields(d: OutputFieldsDeclarer): void {
        d.declare(['value']);
      }
    }
    await submit((b) => {
      b.setSpout('s', () => new ListSpout(range(3), ledger));
      b.setBolt('ff', () => new FireAndForget(), 1).shuffleGrouping('s');
      b.setBolt('sink', () => new RecordingBolt([]), 1).shuffleGrouping('ff');
    });
    await until(() => ledger.acked.length === 3 && pending.length === 3, 'acked');
    await Promise.all(pending);
    expect(codes).toEqual(['ERR_EMIT_AFTER_SETTLE', 'ERR_EMIT_AFTER_SETTLE', 'ERR_EMIT_AFTER_SETTLE']);
  });

  // ---- rich bolts ---------------------------------------------------------------------------

  it('rich bolts: acks and emits from continuations work; a rejected promise fails the input at once and is reported', async () => {
    const ledger = new SpoutLedger();
    const seen: Seen[] = [];
    class RichAsync extends BaseRichBolt {
      private collector!: OutputCollector;
      prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, c: OutputCollector): void {
        this.collector = c;
      }
      async execute(t: Tuple): Promise<void> {
        const v = t.getValue(0) as number;
        await io();
        if (v % 5 === 0) throw new Error(`no row for ${v}`);
        this.collector.emit([v], t);
        this.collector.ack(t);
      }
      declareOutputFields(d: OutputFieldsDeclarer): void {
        d.declare(['value']);
      }
    }
    await submit(
      (b) => {
        b.setSpout('s', () => new ListSpout(range(20), ledger));
        b.setBolt('rich', () => new RichAsync(), 2).shuffleGrouping('s');
        b.setBolt('sink', () => new RecordingBolt(seen), 1).shuffleGrouping('rich');
      },
      { 'topology.message.timeout.secs': 600 },
    );
    await until(() => ledger.acked.length + ledger.failed.length === 20, 'every tuple done');
    expect(sorted(ledger.failed)).toEqual([0, 5, 10, 15]); // at once: the clock never moved
    expect(seen).toHaveLength(16);
    const info = await fx.cluster.getTopologyInfo('t');
    expect(info.errors.rich).toHaveLength(4);
    expect(info.bolts.find((c) => c.componentId === 'rich')).toMatchObject({ executed: 20, acked: 16, failed: 4 });
  });

  // ---- timeouts -----------------------------------------------------------------------------

  it('fails an input whose promise never settles at its async timeout, then ignores a late settlement', async () => {
    const ledger = new SpoutLedger();
    const gates = new Gates();
    const seen: Seen[] = [];
    const lateCodes: unknown[] = [];
    const collectors = new Map<unknown, BasicOutputCollector>();
    await submit(
      (b) => {
        b.setSpout('s', () => new ListSpout(range(4), ledger));
        b.setBolt('stuck', () => new GatedEcho(gates, { collectors }), 1).shuffleGrouping('s').setAsyncTimeoutSecs(10);
        b.setBolt('sink', () => new RecordingBolt(seen), 1).shuffleGrouping('stuck');
      },
      { 'topology.message.timeout.secs': 600 },
    );
    await until(() => gates.size === 4, 'four calls pending');
    expect((await executorStats('stuck'))[0]).toMatchObject({ inflight: 4, asyncTimedOut: 0 });
    fx.clock.advance(9_999);
    await turns(10);
    expect(ledger.failed).toEqual([]); // not before the timeout
    fx.clock.advance(5_001); // rotation every 5 s: failed within 10–15 s
    await until(() => ledger.failed.length === 4, 'failed at the async timeout');
    expect(sorted(ledger.failed)).toEqual(ids(4));
    expect((await executorStats('stuck'))[0]).toMatchObject({ inflight: 0, asyncTimedOut: 4 });
    const errors = (await fx.cluster.getTopologyInfo('t')).errors.stuck;
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0].error).toContain('topology.async.timeout.secs');
    // settling now changes nothing, and the collector of a timed-out input refuses emits
    for (const k of gates.keys()) gates.resolve(k);
    try {
      collectors.get(0)!.emit(['late']);
    } catch (err) {
      lateCodes.push(errorCode(err));
    }
    await turns(20);
    expect(lateCodes).toEqual(['ERR_EMIT_AFTER_SETTLE']);
    expect(ledger.acked).toEqual([]);
    expect(seen).toEqual([]);
    const info = await fx.cluster.getTopologyInfo('t');
    expect(info.bolts.find((c) => c.componentId === 'stuck')).toMatchObject({ executed: 4, acked: 0, failed: 4 });
  });

  it('derives the async timeout from the message timeout, and resetTimeout restarts it', async () => {
    const ledger = new SpoutLedger();
    const gates = new Gates();
    let collector!: OutputCollector;
    const inputs: Tuple[] = [];
    class Slow extends BaseRichBolt {
      prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, c: OutputCollector): void {
        collector = c;
      }
      execute(t: Tuple): Promise<void> {
        inputs.push(t);
        return gates.wait(t.getValue(0));
      }
    }
    await submit(
      (b) => {
        b.setSpout('s', () => new ListSpout(range(2), ledger));
        b.setBolt('slow', () => new Slow(), 1).shuffleGrouping('s');
      },
      { 'topology.message.timeout.secs': 20, 'topology.enable.message.timeouts': false },
    );
    await until(() => gates.size === 2, 'pending');
    for (let i = 0; i < 5; i++) {
      fx.clock.advance(10_000);
      collector.resetTimeout(inputs[1]); // keeps the call of input 1 alive
      await turns(5);
    }
    await until(() => ledger.failed.length === 1, 'input 0 failed at the (message) timeout');
    expect(ledger.failed).toEqual([0]);
    expect((await executorStats('slow'))[0]).toMatchObject({ inflight: 1, asyncTimedOut: 1 });
    gates.resolve(1);
    collector.ack(inputs[1]);
    await until(() => ledger.acked.length === 1, 'input 1 acked');
    expect((await executorStats('slow'))[0]).toMatchObject({ inflight: 0, asyncTimedOut: 1 });
  });

  // ---- bounded concurrency ------------------------------------------------------------------

  it('holds topology.bolt.max.inflight under an unthrottled spout and a slow async bolt: bounded, nothing dropped', async () => {
    const N = 3000;
    const limit = 8;
    const capacity = 16;
    const ledger = new SpoutLedger();
    const state = { started: 0, running: 0, maxRunning: 0, maxQueued: 0, maxStatInflight: 0 };
    let tasks: BoltTask[] = [];
    class SlowLookup extends BaseBasicBolt {
      async execute(t: Tuple, c: BasicOutputCollector): Promise<void> {
        state.started++;
        state.running++;
        state.maxRunning = Math.max(state.maxRunning, state.running);
        // what waits for this bolt: emitted by the spout, not yet started here
        state.maxQueued = Math.max(state.maxQueued, ledger.emitted.length - state.started);
        for (const task of tasks) state.maxStatInflight = Math.max(state.maxStatInflight, task.inFlight());
        await io();
        await io();
        await io();
        state.running--;
        c.emit([t.getValue(0)]);
      }
      declareOutputFields(d: OutputFieldsDeclarer): void {
        d.declare(['value']);
      }
    }
    const sunk: Seen[] = [];
    await submit(
      (b) => {
        b.setSpout('fast', () => new ListSpout(range(N), ledger));
        b.setBolt('lookup', () => new SlowLookup(), 1).shuffleGrouping('fast').setMaxInflight(limit);
        b.setBolt('sink', () => new RecordingBolt(sunk), 1).shuffleGrouping('lookup');
      },
      { 'topology.executor.receive.buffer.size': capacity },
    );
    tasks = await boltTasks('lookup');
    await until(() => ledger.acked.length === N, 'every tuple acked', 30_000);
    // the limit held and was reached (so it, not the spout, set the pace)
    expect(state.maxRunning).toBe(limit);
    expect(state.maxStatInflight).toBeLessThanOrEqual(limit);
    // the spout was parked by the full inbox: what waited for the bolt never exceeded the inbox, and filled it
    expect(state.maxQueued).toBeLessThanOrEqual(capacity);
    expect(state.maxQueued).toBeGreaterThanOrEqual(capacity - 1);
    // nothing dropped
    expect(state.started).toBe(N);
    expect(sunk).toHaveLength(N);
    expect(ledger.failed).toEqual([]);
    expect(ledger.emitted).toHaveLength(N);
    expect((await executorStats('lookup'))[0]).toMatchObject({ inflight: 0, asyncTimedOut: 0 });
  });

  it('defaults topology.bolt.max.inflight to 100', async () => {
    const ledger = new SpoutLedger();
    const gates = new Gates();
    await submit((b) => {
      b.setSpout('s', () => new ListSpout(range(300), ledger));
      b.setBolt('wait', () => new GatedEcho(gates), 1).shuffleGrouping('s');
    });
    await until(() => gates.size === 100, '100 in flight');
    await turns(30);
    expect(gates.size).toBe(100);
    for (const k of gates.keys()) gates.resolve(k);
    await until(() => gates.size === 100 && ledger.acked.length === 100, 'the next 100');
  });

  // ---- ordered mode -------------------------------------------------------------------------

  /** A rich bolt doing what GatedEcho does, acking itself. */
  class RichGatedEcho extends BaseRichBolt {
    private collector!: OutputCollector;
    constructor(private readonly gates: Gates) {
      super();
    }
    prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, c: OutputCollector): void {
      this.collector = c;
    }
    async execute(t: Tuple): Promise<void> {
      const v = t.getValue(0) as number;
      if (v % 4 !== 3) await this.gates.wait(v); // 3, 7, 11: no await (the async function still returns a promise)
      this.collector.emit([v], t);
      this.collector.ack(t);
    }
    declareOutputFields(d: OutputFieldsDeclarer): void {
      d.declare(['value']);
    }
  }

  /** lookup (gated) → sink (records), all through one task each, so arrival order is emit order. */
  async function submitLookup(ledger: SpoutLedger, n: number, lookup: () => BaseBasicBolt | BaseRichBolt, seen: Seen[], ordered: boolean, conf: TopologyConfig = {}): Promise<void> {
    await submit((b) => {
      b.setSpout('s', () => new ListSpout(range(n), ledger));
      b.setBolt('lookup', lookup, 1).globalGrouping('s').setAsyncOrdered(ordered).setAsyncTimeoutSecs(10);
      b.setBolt('sink', () => new RecordingBolt(seen), 1).globalGrouping('lookup');
    }, { 'topology.message.timeout.secs': 600, ...conf });
  }

  it.each([
    ['basic', true],
    ['rich', false],
  ])('ordered mode (%s bolt) emits in input order however the promises settle', async (_label, basic) => {
    const N = 12;
    const ledger = new SpoutLedger();
    const gates = new Gates();
    const seen: Seen[] = [];
    await submitLookup(ledger, N, () => (basic ? new GatedEcho(gates, { sync: (v) => v % 4 === 3 }) : new RichGatedEcho(gates)), seen, true);
    await until(() => gates.size === 9, 'every async lookup pending');
    await turns(20);
    expect(seen).toEqual([]); // input 0 is pending: nothing may pass it, not even the synchronous 3, 7, 11
    const [task] = await boltTasks('lookup');
    expect(task.inFlight()).toBe(N); // held synchronous calls count as in flight
    for (const k of gates.keys().reverse()) {
      gates.resolve(k);
      await turns(3);
    }
    await until(() => seen.length === N, 'all arrived');
    expect(valuesOf(seen)).toEqual(ids(N));
    await until(() => ledger.acked.length === N, 'all acked');
    expect(task.inFlight()).toBe(0);
  });

  it('unordered mode (the default) emits as promises settle', async () => {
    const ledger = new SpoutLedger();
    const gates = new Gates();
    const seen: Seen[] = [];
    await submitLookup(ledger, 5, () => new GatedEcho(gates), seen, false);
    await until(() => gates.size === 5, 'pending');
    for (const k of gates.keys().reverse()) {
      gates.resolve(k);
      await turns(3);
    }
    await until(() => seen.length === 5, 'arrived');
    expect(valuesOf(seen)).toEqual([4, 3, 2, 1, 0]);
  });

  it('ordered mode: a rejected or timed-out input fails in its place, and later output waits for it', async () => {
    const ledger = new SpoutLedger();
    const gates = new Gates();
    const seen: Seen[] = [];
    await submitLookup(ledger, 4, () => new GatedEcho(gates), seen, true);
    await until(() => gates.size === 4, 'pending');
    gates.resolve(3);
    gates.reject(1, new Error('boom'));
    gates.resolve(2);
    await turns(20);
    expect(seen).toEqual([]);
    expect(ledger.failed).toEqual([]); // 1's failure waits behind 0
    fx.clock.advance(15_000); // 0 times out
    await until(() => seen.length === 2, 'released after the timeout');
    expect(valuesOf(seen)).toEqual([2, 3]);
    await until(() => ledger.failed.length === 2 && ledger.acked.length === 2, 'done');
    expect(sorted(ledger.failed)).toEqual([0, 1]);
  });

  // ---- the checkpoint contract: inFlight() and onDrained() ------------------------------------

  it('inFlight() counts unsettled calls; onDrained() pauses input until they settle, then calls back once', async () => {
    const ledger = new SpoutLedger();
    const gates = new Gates();
    await submit(
      (b) => {
        b.setSpout('s', () => new ListSpout(range(10), ledger));
        b.setBolt('wait', () => new GatedEcho(gates), 1).shuffleGrouping('s').setMaxInflight(3);
      },
    );
    const [task] = await boltTasks('wait');
    // (the spout runs while the topology starts, so calls may already be in flight here: the
    // "at once when nothing is in flight" case is checked at the end, when all have settled)
    let drained = 0;
    await until(() => gates.size === 3, 'three in flight');
    expect(task.inFlight()).toBe(3);
    task.onDrained(() => {
      drained++;
      expect(task.inFlight()).toBe(0);
      expect(gates.started).toHaveLength(3); // called before the task takes more input
    });
    gates.resolve(0);
    await until(() => task.inFlight() === 2, 'one settled');
    await turns(20);
    expect(gates.started).toHaveLength(3); // a drain is awaited: no new input, though a slot is free
    expect(drained).toBe(0);
    gates.resolve(1);
    gates.resolve(2);
    await until(() => drained === 1, 'drained');
    await until(() => gates.started.length === 6, 'input resumed');
    while (ledger.acked.length < 10) {
      await until(() => gates.size > 0 || ledger.acked.length === 10, 'pending');
      for (const k of gates.keys()) gates.resolve(k);
      await turns(3);
    }
    expect(drained).toBe(1);
    // nothing in flight now: onDrained calls back at once
    expect(task.inFlight()).toBe(0);
    task.onDrained(() => drained++);
    expect(drained).toBe(2);
  });

  // ---- configuration ------------------------------------------------------------------------

  it('validates the async keys like every key, per topology and per component', () => {
    expect(topologyConfigProblems({ 'topology.bolt.max.inflight': 0, 'topology.async.timeout.secs': -1, 'topology.bolt.async.ordered': 'yes' })).toEqual([
      '"topology.bolt.max.inflight" must be an integer from 1 to 1048576 (got 0)',
      '"topology.async.timeout.secs" must be a number > 0 (got -1)',
      '"topology.bolt.async.ordered" must be true or false (got "yes")',
    ]);
    expect(topologyConfigProblems({ 'topology.bolt.max.inflight': 50, 'topology.bolt.async.ordered': true, 'topology.async.timeout.secs': 5 }, 'component')).toEqual([]);
    const conf = resolveTopologyConfig({});
    expect([conf['topology.bolt.max.inflight'], conf['topology.async.timeout.secs'], conf['topology.bolt.async.ordered']]).toEqual([100, null, false]);
    const b = new TopologyBuilder();
    b.setSpout('s', () => new ListSpout([], new SpoutLedger()));
    b.setBolt('x', () => new RecordingBolt([]), 1).shuffleGrouping('s').setMaxInflight(0);
    expect(() => b.createTopology()).toThrow(/topology.bolt.max.inflight/);
  });
});
