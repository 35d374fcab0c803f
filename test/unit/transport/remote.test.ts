import { silentLogger } from '../../../common/logging';
import { computeLayout } from '../../../common/topology-layout';
import { resolveTopologyConfig } from '../../../topology-api';
import { RemoteRouter, type RuntimeReceiver } from '../../../worker/remote';
import { createUnpackr } from '../../../worker/transport/codec';
import { Outbox, type FrameSink } from '../../../worker/transport/outbox';
import type { PeerAddress, Transport, TransportAttachment, TransportStats } from '../../../worker/transport/types';
import { buildWordCount } from '../../../examples/word-count/topology';
import { wordTuple } from './helpers';

/** Outboxes by peer, each on a sink that records frames; no sockets. */
class FakeTransport implements Transport {
  readonly outboxes = new Map<string, Outbox>();
  readonly frames = new Map<string, Buffer[]>();
  attachment: TransportAttachment | null = null;
  flushes = 0;
  afterTurns = 0;
  constructor(readonly workerKey: string) {}
  attach(a: TransportAttachment): void {
    this.attachment = a;
  }
  async listen(): Promise<void> {}
  setPeers(peers: ReadonlyMap<string, PeerAddress>): void {
    for (const peer of [...this.outboxes.keys()]) if (!peers.has(peer)) {
      this.outboxes.get(peer)!.close();
      this.outboxes.delete(peer);
    }
    for (const peer of peers.keys()) {
      if (this.outboxes.has(peer)) continue;
      const o = new Outbox({ peer, batchSize: 100, bufferBytes: 1 << 20, frameBytesMax: 1 << 20, onWritable: () => this.attachment?.onWritable(), logger: silentLogger() });
      const frames: Buffer[] = [];
      this.frames.set(peer, frames);
      const sink: FrameSink = { send: (f, done) => (frames.push(f), done()) };
      o.attach(sink);
      this.outboxes.set(peer, o);
    }
  }
  outbox(peer: string): Outbox | undefined {
    return this.outboxes.get(peer);
  }
  flush(): void {
    this.flushes++;
    for (const o of this.outboxes.values()) o.flush();
  }
  afterTurn(): void {
    this.afterTurns++;
  }
  stats(): TransportStats {
    throw new Error('unused');
  }
  async close(): Promise<void> {}
}

// word count: __acker 1, count 2-3, report 4, sentences 5, split 6-7
const layout = computeLayout(buildWordCount().createTopology().definition, resolveTopologyConfig({ 'topology.acker.executors': 1 }));

function receiver(owned: number[]): RuntimeReceiver & { wakes: number } {
  return {
    layout,
    wakes: 0,
    owns: (t) => owned.includes(t),
    receiveTuple: () => true,
    receiveAck: () => true,
    queueFor: () => ({ isFull: () => false }),
    fieldsOf: (i) => ({ fields: undefined as never, component: layout.streams[i].component, stream: layout.streams[i].stream }),
    wake() {
      this.wakes++;
    },
  };
}

const peers = (...keys: string[]): Map<string, PeerAddress> => new Map(keys.map((k, i) => [k, { host: '127.0.0.1', port: 7000 + i }]));
const unpackr = createUnpackr();

describe('RemoteRouter', () => {
  test('routes each task to its worker\'s outbox; flush flushes every outbox then lets inbound links resume', () => {
    const t = new FakeTransport('A');
    const router = new RemoteRouter({ transport: t });
    const r = receiver([5, 6, 7]);
    router.attach(r);
    router.updateAssignment((task) => (task <= 3 ? 'B' : task === 4 ? 'C' : 'A'), peers('B', 'C'));
    router.sendTuple(2, wordTuple('to-b'));
    router.sendTuple(4, wordTuple('to-c'));
    router.sendAck(2, 1, 99, 1, 2, 5);
    router.flush();
    expect(t.flushes).toBe(1);
    expect(t.afterTurns).toBe(1);
    expect(t.frames.get('B')).toHaveLength(1);
    expect(t.frames.get('C')).toHaveLength(1);
  });

  test('tuples for a task whose worker is unknown are held, reported full past the bound, and sent in order once known', () => {
    const t = new FakeTransport('A');
    const router = new RemoteRouter({ transport: t, pendingTuplesMax: 3 });
    const q2 = router.queueFor(2); // the runtime asks at construction, before any assignment
    const r = receiver([5, 6, 7]);
    router.attach(r);
    router.sendTuple(2, wordTuple('a'));
    router.sendTuple(3, wordTuple('b'));
    router.sendAck(2, 1, 99, 1, 2, 5);
    expect(q2.isFull()).toBe(false);
    router.sendTuple(2, wordTuple('c'));
    expect(q2.isFull()).toBe(true);
    router.sendTuple(2, wordTuple('d')); // overshoot by a running callback: kept, not dropped
    expect(router.pendingCounts()).toEqual({ tuples: 4, acks: 1 });

    router.updateAssignment((task) => (task <= 3 ? 'B' : 'A'), peers('B'));
    expect(router.pendingCounts()).toEqual({ tuples: 0, acks: 0 });
    expect(q2.isFull()).toBe(false);
    expect(r.wakes).toBeGreaterThan(0);
    router.flush();
    const [tuples, acks] = unpackr.unpack(t.frames.get('B')![0].subarray(2)) as [unknown[], number[]];
    expect(tuples).toEqual([2, 3, 1, ['a'], 0, 3, 3, 1, ['b'], 0, 2, 3, 1, ['c'], 0, 2, 3, 1, ['d'], 0]);
    expect(acks).toEqual([2, 1, 99, 1, 2, 5]);
  });

  test('queueFor keeps one object per task while the task moves between workers', () => {
    const t = new FakeTransport('A');
    const router = new RemoteRouter({ transport: t });
    router.attach(receiver([5, 6, 7]));
    const q = router.queueFor(4);
    router.updateAssignment(() => 'B', peers('B', 'C'));
    t.outboxes.get('B')!.setRemoteBackpressure(true);
    expect(q.isFull()).toBe(true);
    router.setTaskWorker((task) => (task === 4 ? 'C' : 'B'));
    expect(router.queueFor(4)).toBe(q);
    expect(q.isFull()).toBe(false);
    router.sendTuple(4, wordTuple('x'));
    router.flush();
    expect(t.frames.get('C')).toHaveLength(1);
    // C removed from the peers: its tasks are held again
    router.setPeers(peers('B'));
    router.sendTuple(4, wordTuple('y'));
    expect(router.pendingCounts().tuples).toBe(1);
  });

  test('close drops what is held, once', () => {
    const t = new FakeTransport('A');
    const router = new RemoteRouter({ transport: t });
    router.attach(receiver([5, 6, 7]));
    router.sendTuple(2, wordTuple('a'));
    router.close();
    router.close();
    expect(router.pendingCounts()).toEqual({ tuples: 0, acks: 0 });
    router.sendTuple(2, wordTuple('b'));
    expect(router.pendingCounts()).toEqual({ tuples: 0, acks: 0 });
  });
});
