/**
 * Model-based property tests of the shared spout core (BrokerSpout) against an in-memory broker
 * with injected faults: random connect, poll, ack and dead-letter failures, broker outages, acks,
 * fails and timeouts in random order, undecodable messages and messages that always fail. Seeded,
 * on a manual clock. Checked at every step: the buffer and the in-flight records stay within their
 * bounds, the broker never gets an acknowledgement for a message whose tree has not completed (or
 * been dead-lettered), an offset-committing broker never gets a commit past a message in flight;
 * at the end, every message is acknowledged at the broker, every good one was acked by the
 * topology, and every bad one was dead-lettered, counted, and did not stall the spout.
 */
import { ManualClock } from '../../../common/clock';
import {
  checkSpoutOptions,
  connectorError,
  DEAD_LETTER_STREAM,
  jsonScheme,
  seededRng,
  type BrokerSpoutOptions,
  type Offsets,
  type Rng,
  type SourceAdapter,
  type SourceMessage,
} from '../../../connectors/core';
import { type SquallError, type TopologyConfig } from '../../../topology-api';
import { AdapterSpout, advance, fakeContext, RecordingSpoutCollector, settle } from './helpers';

interface Msg extends SourceMessage {
  readonly offset: number;
}

const key = (p: string, o: string | number): string => `${p}@${o}`;

/** A broker of numbered messages in a few partitions, with faults on demand. */
class FakeBroker {
  readonly logs = new Map<string, string[]>();
  readonly cursor = new Map<string, number>();
  /** Acknowledged message keys (message style) and commit points (prefix style). */
  readonly acked = new Map<string, number>();
  readonly commits = new Map<string, number>();
  readonly dlq: string[] = [];
  down = false;
  faultRate = 0;
  /** Keys the topology finished (acked, or dead-letter tuple acked): the only ones the broker may see acked. */
  readonly finished = new Set<string>();
  readonly violations: string[] = [];

  constructor(readonly rng: Rng) {}

  add(partition: string, payload: string): void {
    if (!this.logs.has(partition)) {
      this.logs.set(partition, []);
      this.cursor.set(partition, 0);
    }
    this.logs.get(partition)!.push(payload);
  }

  total(): number {
    let n = 0;
    for (const l of this.logs.values()) n += l.length;
    return n;
  }

  fault(what: string): void {
    if (this.down) throw Object.assign(new Error(`connect ECONNREFUSED (${what})`), { code: 'ECONNREFUSED' });
    if (this.rng() < this.faultRate) throw Object.assign(new Error(`injected ${what} fault`), { code: 'EPIPE' });
  }
}

class FakeAdapter implements SourceAdapter<Msg> {
  readonly system = 'fake';
  readonly pollBlocks = false;
  connected = false;
  polls = 0;

  constructor(
    readonly broker: FakeBroker,
    readonly commitStyle: 'message' | 'prefix',
  ) {}

  async connect(): Promise<void> {
    this.broker.fault('connect');
    this.connected = true;
  }

  async poll(max: number): Promise<readonly Msg[]> {
    await Promise.resolve();
    if (!this.connected) throw new Error('not connected');
    this.broker.fault('poll');
    this.polls++;
    const out: Msg[] = [];
    for (const [p, log] of this.broker.logs) {
      let c = this.broker.cursor.get(p)!;
      while (c < log.length && out.length < max) {
        out.push({ partition: p, offset: c, payload: log[c], deliveries: 1 });
        c++;
      }
      this.broker.cursor.set(p, c);
    }
    return out;
  }

  async ack(messages: readonly Msg[], committed: ReadonlyMap<string, string | number>): Promise<void> {
    await Promise.resolve();
    this.broker.fault('ack');
    const b = this.broker;
    for (const m of messages) {
      const k = key(m.partition, m.offset);
      if (!b.finished.has(k)) b.violations.push(`broker ack of ${k} before its tree completed`);
      b.acked.set(k, (b.acked.get(k) ?? 0) + 1);
    }
    if (this.commitStyle === 'message' && committed.size > 0) b.violations.push('a message broker got commit points');
    for (const [p, o] of committed) {
      for (let i = 0; i <= (o as number); i++) if (!b.finished.has(key(p, i))) b.violations.push(`commit ${p}@${o} passes ${p}@${i}, still in flight`);
      if ((o as number) < (b.commits.get(p) ?? -1)) b.violations.push(`commit of ${p} went back to ${o}`);
      b.commits.set(p, o as number);
    }
  }

  async deadLetter(message: Msg): Promise<void> {
    await Promise.resolve();
    this.broker.fault('deadLetter');
    this.broker.dlq.push(key(message.partition, message.offset));
  }

  replayable(): boolean {
    return true;
  }

  seek(positions: Offsets | null): void {
    for (const p of this.broker.logs.keys()) {
      const at = positions?.[p];
      this.broker.cursor.set(p, at === undefined ? 0 : (at as number) + 1);
    }
  }

  classify(err: unknown): SquallError {
    return connectorError('ERR_CONNECTOR_CONNECT', 'fake', String(err), err);
  }

  async close(): Promise<void> {
    this.connected = false;
  }
}

interface Run {
  broker: FakeBroker;
  adapter: FakeAdapter;
  spout: AdapterSpout<Msg>;
  collector: RecordingSpoutCollector;
  clock: ManualClock;
}

function setup(seed: number, commitStyle: 'message' | 'prefix', options: Partial<BrokerSpoutOptions> = {}, conf: TopologyConfig = {}): Run {
  const rng = seededRng(seed);
  const broker = new FakeBroker(seededRng(seed + 7));
  const kinds = ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'bad-json', 'poison'];
  const total = 150 + Math.floor(rng() * 150);
  for (let i = 0; i < total; i++) {
    const kind = kinds[Math.floor(rng() * kinds.length)];
    broker.add(`p${Math.floor(rng() * 3)}`, kind === 'bad-json' ? `{not json ${i}` : JSON.stringify({ n: i, kind }));
  }
  const adapter = new FakeAdapter(broker, commitStyle);
  const clock = new ManualClock();
  const spout = new AdapterSpout(
    adapter,
    {
      maxPending: 5 + Math.floor(rng() * 40),
      prefetch: 1 + Math.floor(rng() * 30),
      maxRetries: 2,
      retryBackoff: { initialMs: 5, maxMs: 40 },
      reconnectBackoff: { initialMs: 5, maxMs: 80 },
      clock,
      random: seededRng(seed + 3),
      ...options,
    },
    jsonScheme(['n', 'kind']),
  );
  const collector = new RecordingSpoutCollector();
  spout.open(conf, fakeContext(), collector);
  spout.activate();
  return { broker, adapter, spout, collector, clock };
}

/** Plays the runtime: nextTuple under max pending, acks, fails and timeouts in random order. */
async function play(run: Run, seed: number, steps: number, opts: { faults: boolean }): Promise<void> {
  const { broker, spout, collector, clock } = run;
  const rng = seededRng(seed + 11);
  const maxPending = (spout as unknown as { maxPendingN: number }).maxPendingN;
  const prefetch = (spout as unknown as { buffer: { capacity: number; size: number } }).buffer;
  const pending: Array<{ msgId: unknown; values: unknown[]; stream: string }> = [];
  let seen = 0;
  const finish = (t: { msgId: unknown; values: unknown[]; stream: string }): void => {
    const r = t.msgId as { msg: Msg };
    broker.finished.add(key(r.msg.partition, r.msg.offset));
    spout.ack(t.msgId);
  };
  for (let step = 0; step < steps; step++) {
    if (opts.faults) {
      broker.faultRate = 0.15;
      if (rng() < 0.02) broker.down = !broker.down;
    }
    const r = rng();
    if (r < 0.35) {
      for (let k = 0; k < 1 + Math.floor(rng() * 10) && pending.length < maxPending; k++) spout.nextTuple();
    } else if (r < 0.8 && pending.length > 0) {
      const t = pending.splice(Math.floor(rng() * pending.length), 1)[0];
      const poison = t.stream === 'default' && t.values[1] === 'poison';
      if (poison || rng() < 0.1) spout.fail(t.msgId);
      else finish(t);
    } else {
      await advance(clock, 1 + Math.floor(rng() * 40), 10);
    }
    for (; seen < collector.emitted.length; seen++) {
      const e = collector.emitted[seen];
      if (e.msgId !== null) pending.push({ msgId: e.msgId, values: e.values, stream: e.stream });
    }
    if (pending.length > maxPending) throw new Error(`step ${step}: ${pending.length} in flight > maxPending ${maxPending}`);
    if (prefetch.size > prefetch.capacity) throw new Error(`step ${step}: buffer over capacity`);
    if (spout.heldCount() > maxPending + prefetch.capacity) throw new Error(`step ${step}: ${spout.heldCount()} held > ${maxPending} + ${prefetch.capacity}`);
    if (broker.violations.length) throw new Error(broker.violations.join('\n'));
  }
  // heal and drain: everything must end acknowledged at the broker
  broker.down = false;
  broker.faultRate = 0;
  for (let round = 0; round < 4000 && broker.acked.size < broker.total(); round++) {
    for (let k = 0; k < 20; k++) spout.nextTuple();
    for (; seen < collector.emitted.length; seen++) {
      const e = collector.emitted[seen];
      if (e.msgId !== null) pending.push({ msgId: e.msgId, values: e.values, stream: e.stream });
    }
    for (const t of pending.splice(0)) {
      if (t.stream === 'default' && t.values[1] === 'poison') spout.fail(t.msgId);
      else finish(t);
    }
    await advance(clock, 20, 10);
  }
  if (broker.violations.length) throw new Error(broker.violations.join('\n'));
}

function checkOutcome(run: Run): void {
  const { broker, collector, spout } = run;
  expect(broker.acked.size).toBe(broker.total());
  const dead = new Set(collector.emitted.filter((e) => e.stream === DEAD_LETTER_STREAM).map((e) => key(e.values[0] as string, e.values[1] as number)));
  const data = new Set(collector.emitted.filter((e) => e.stream === 'default').map((e) => `${e.values[0]}`));
  let bad = 0;
  let poison = 0;
  let unlucky = 0;
  for (const [p, log] of broker.logs) {
    log.forEach((payload, o) => {
      const k = key(p, o);
      if (payload.startsWith('{not json')) {
        bad++;
        expect(dead.has(k)).toBe(true);
      } else if (payload.includes('poison')) {
        poison++;
        expect(dead.has(k)).toBe(true);
      } else if (!dead.has(k)) expect(data.has(String(JSON.parse(payload).n))).toBe(true);
      else unlucky++; // a good message failed at random more than maxRetries times
    });
  }
  expect(spout.counters.decodeFailed).toBe(bad);
  expect(spout.counters.deadLettered).toBe(bad + poison + unlucky);
  expect(dead.size).toBe(bad + poison + unlucky);
  expect(new Set(broker.dlq).size).toBe(bad + poison + unlucky);
  const codes = new Set(collector.codes());
  if (bad > 0) expect(codes.has('ERR_CONNECTOR_DECODE')).toBe(true);
  if (poison > 0) expect(codes.has('ERR_CONNECTOR_DEAD_LETTER')).toBe(true);
}

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];

describe('BrokerSpout core (property tests against a faulty in-memory broker)', () => {
  it.each(SEEDS)('message-acknowledging broker: nothing acknowledged early, nothing lost, bad messages dead-lettered (seed %i)', async (seed) => {
    const run = setup(seed, 'message');
    await play(run, seed, 600, { faults: true });
    checkOutcome(run);
    await run.spout.close();
  });

  it.each(SEEDS)('offset-committing broker: commits only the contiguous done prefix (seed %i)', async (seed) => {
    const run = setup(seed, 'prefix');
    await play(run, seed, 600, { faults: true });
    checkOutcome(run);
    for (const [p, log] of run.broker.logs) expect(run.broker.commits.get(p)).toBe(log.length - 1);
    await run.spout.close();
  });

  it('a burst of completions larger than one ack batch: batches of at most 1,000, every message acknowledged once, a failed batch sent again', async () => {
    const broker = new FakeBroker(seededRng(5));
    const total = 2600;
    for (let i = 0; i < total; i++) broker.add('p0', JSON.stringify({ n: i, kind: 'ok' }));
    const adapter = new FakeAdapter(broker, 'message');
    const sizes: number[] = [];
    const ack = adapter.ack.bind(adapter);
    adapter.ack = async (messages, committed) => {
      sizes.push(messages.length);
      if (sizes.length === 2) throw Object.assign(new Error('injected ack fault'), { code: 'EPIPE' });
      return ack(messages, committed);
    };
    const clock = new ManualClock();
    const spout = new AdapterSpout(adapter, { maxPending: total, prefetch: 1000, reconnectBackoff: { initialMs: 5, maxMs: 20 }, clock, random: seededRng(6) }, jsonScheme(['n', 'kind']));
    const collector = new RecordingSpoutCollector();
    spout.open({}, fakeContext(), collector);
    spout.activate();
    for (let round = 0; round < 200 && collector.emitted.length < total; round++) {
      for (let k = 0; k < 200; k++) spout.nextTuple();
      await advance(clock, 5, 5);
    }
    expect(collector.emitted.length).toBe(total);
    expect(broker.acked.size).toBe(0);
    // a window firing: every tree completes in one turn
    for (const e of collector.emitted) {
      const r = e.msgId as { msg: Msg };
      broker.finished.add(key(r.msg.partition, r.msg.offset));
      spout.ack(e.msgId);
    }
    for (let round = 0; round < 200 && broker.acked.size < total; round++) await advance(clock, 10, 5);
    expect(broker.violations).toEqual([]);
    expect(broker.acked.size).toBe(total);
    expect([...broker.acked.values()].every((n) => n === 1)).toBe(true);
    expect(Math.max(...sizes)).toBe(1000);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(total + sizes[1]);
    expect(collector.codes()).toContain('ERR_CONNECTOR_CONNECT');
    await spout.close();
  });

  it('pollLingerMs: after a partial poll the next waits that long; after a full one it follows at once', async () => {
    const broker = new FakeBroker(seededRng(8));
    for (let i = 0; i < 10; i++) broker.add('p0', JSON.stringify({ n: i, kind: 'ok' }));
    const adapter = new FakeAdapter(broker, 'message');
    const clock = new ManualClock();
    const spout = new AdapterSpout(adapter, { maxPending: 100, prefetch: 100, pollBatch: 4, pollLingerMs: 50, clock, random: seededRng(9) }, jsonScheme(['n', 'kind']));
    spout.open({}, fakeContext(), new RecordingSpoutCollector());
    spout.activate();
    await settle(20);
    expect(adapter.polls).toBe(3); // 4 and 4 (full: at once), then 2 (partial: linger)
    await advance(clock, 49, 7);
    expect(adapter.polls).toBe(3);
    for (let i = 10; i < 13; i++) broker.add('p0', JSON.stringify({ n: i, kind: 'ok' }));
    await advance(clock, 1);
    expect(adapter.polls).toBe(4); // the 3 that came meanwhile, in one poll
    expect(spout.counters.received).toBe(13);
    await spout.close();
  });

  it('reports coded errors for an unreachable broker, backs off with jitter, and recovers', async () => {
    const run = setup(42, 'message', { reconnectBackoff: { initialMs: 10, maxMs: 100 } });
    run.broker.down = true;
    const connects: number[] = [];
    const original = run.adapter.connect.bind(run.adapter);
    run.adapter.connect = async () => {
      connects.push(run.clock.now());
      return original();
    };
    await advance(run.clock, 2000, 5);
    expect(run.collector.codes().every((c) => c === 'ERR_CONNECTOR_CONNECT')).toBe(true);
    expect(run.collector.errors.length).toBeGreaterThan(3);
    // capped: after the first few attempts the gaps sit between cap/2 and cap (plus one clock step)
    const gaps = connects.slice(1).map((t, i) => t - connects[i]);
    for (const g of gaps.slice(6)) {
      expect(g).toBeGreaterThanOrEqual(50);
      expect(g).toBeLessThanOrEqual(105);
    }
    expect(new Set(gaps.slice(6)).size).toBeGreaterThan(1); // jittered
    run.broker.down = false;
    await advance(run.clock, 200, 5);
    run.spout.nextTuple();
    expect(run.collector.emitted.length).toBe(1);
    await run.spout.close();
  });

  it('at-most-once: acknowledges at the broker on receipt and emits untracked', async () => {
    const run = setup(7, 'message', { guarantee: 'at-most-once' });
    await settle(10);
    await advance(run.clock, 50);
    const ackedBefore = run.broker.acked.size;
    expect(ackedBefore).toBeGreaterThan(0); // received, not yet emitted, already acknowledged
    run.broker.finished.clear();
    for (let i = 0; i < 5; i++) run.spout.nextTuple();
    expect(run.collector.emitted.every((e) => e.msgId === null)).toBe(true);
    await run.spout.close();
  });

  it('exactly-once: offsets() is the last consumed offset per partition; seek() resumes right after it and ignores late acks', async () => {
    const run = setup(9, 'message', { maxPending: 1000, prefetch: 50 }, { 'topology.processing.guarantee': 'exactly-once' });
    await advance(run.clock, 20);
    for (let i = 0; i < 30; i++) run.spout.nextTuple();
    const snapshot = run.spout.offsets();
    expect(Object.keys(snapshot).length).toBeGreaterThan(0);
    const before = run.collector.emitted.length;
    for (let i = 0; i < 20; i++) run.spout.nextTuple();
    const stale = run.collector.emitted.slice(before).filter((e) => e.msgId !== null);
    run.spout.seek(snapshot);
    for (const t of stale) run.spout.ack(t.msgId); // from before the seek: ignored
    expect(run.spout.counters.acked).toBe(0);
    await advance(run.clock, 20);
    const after = run.collector.emitted.length;
    for (let i = 0; i < 30; i++) run.spout.nextTuple();
    const firstPerPartition = new Map<string, number>();
    for (const e of run.collector.emitted.slice(after)) {
      const r = e.msgId as { msg: Msg } | null;
      const m = r?.msg ?? { partition: e.values[0] as string, offset: e.values[1] as number };
      if (!firstPerPartition.has(m.partition)) firstPerPartition.set(m.partition, m.offset);
    }
    for (const [p, o] of firstPerPartition) expect(o).toBe(snapshot[p] === undefined ? 0 : (snapshot[p] as number) + 1);
    run.spout.seek(null);
    await advance(run.clock, 20);
    const restart = run.collector.emitted.length;
    run.spout.nextTuple();
    expect((run.collector.emitted[restart].msgId as { msg: Msg }).msg.offset).toBe(0);
    await run.spout.close();
  });

  it('deactivate stops polling; activate resumes; close cuts backoff waits and closes the adapter', async () => {
    const run = setup(5, 'message');
    await advance(run.clock, 20);
    run.spout.deactivate();
    await advance(run.clock, 20);
    const polls = run.adapter.polls;
    for (let i = 0; i < 100; i++) run.spout.nextTuple();
    await advance(run.clock, 100);
    expect(run.adapter.polls).toBe(polls);
    run.spout.activate();
    await advance(run.clock, 20);
    expect(run.adapter.polls).toBeGreaterThan(polls);
    run.broker.down = true;
    await advance(run.clock, 50);
    await run.spout.close();
    await run.spout.close(); // idempotent
    expect(run.adapter.connected).toBe(false);
    expect(run.clock.pendingTimers()).toBe(0);
  });

  it('refuses invalid options, listing every problem', () => {
    expect(() => checkSpoutOptions('fake', { maxPending: 0, prefetch: 1.5, retryBackoff: { initialMs: 10, maxMs: 1 }, guarantee: 'twice' as never })).toThrow(
      expect.objectContaining({ code: 'ERR_CONNECTOR_CONFIG', problems: expect.arrayContaining([expect.stringContaining('maxPending'), expect.stringContaining('prefetch'), expect.stringContaining('retryBackoff.maxMs'), expect.stringContaining('guarantee')]) }),
    );
  });
});
