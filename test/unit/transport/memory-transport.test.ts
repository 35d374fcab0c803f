import { ManualClock } from '../../../common/clock';
import { MemoryHub, MemoryTransport } from '../../../worker/transport/memory-transport';
import type { ControlMessage } from '../../../worker/transport/codec';
import type { PeerAddress } from '../../../worker/transport/types';
import { FakeReceiver, testStreams, waitFor, wordTuple } from './helpers';

const peersOf = (...keys: string[]): Map<string, PeerAddress> => new Map(keys.map((k) => [k, { host: 'memory', port: 0 }]));

async function pair(opts: { capacity?: number; frameBytesMax?: number; clock?: ManualClock } = {}) {
  const hub = new MemoryHub();
  const ra = new FakeReceiver([3]);
  const rb = new FakeReceiver([1, 2], opts.capacity);
  const wakes = { a: 0 };
  const controls: Array<[string, ControlMessage]> = [];
  const limits = { batchSize: 10, frameBytesMax: opts.frameBytesMax };
  const a = new MemoryTransport(hub, { workerKey: 'A', limits, clock: opts.clock });
  const b = new MemoryTransport(hub, { workerKey: 'B', limits, clock: opts.clock });
  a.attach({ receiver: ra, streams: testStreams(), onWritable: () => wakes.a++ });
  b.attach({ receiver: rb, streams: testStreams(), onWritable: () => {}, onControl: (p, m) => controls.push([p, m]) });
  await a.listen();
  await b.listen();
  a.setPeers(peersOf('B'));
  await waitFor('link A→B', () => a.linkState('B') === 'open');
  return { hub, a, b, ra, rb, wakes, controls };
}

describe('MemoryTransport', () => {
  let close: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of close) await c();
    close = [];
  });

  test('carries encoded tuples and acks, asynchronously, and refuses tasks it does not run', async () => {
    const { a, b, rb } = await pair();
    close.push(() => a.close(), () => b.close());
    const out = a.outbox('B')!;
    out.addTuple(1, wordTuple('x', 5, 1, 2));
    out.addTuple(3, wordTuple('not-mine'));
    out.addAck(2, 4, 5, 1, 2, 0);
    a.flush();
    expect(rb.tuplesIn).toBe(0); // nothing synchronous
    await waitFor('delivery', () => rb.tuplesIn === 1 && rb.acks.length === 1);
    expect(rb.all()[0].values).toEqual(['x']);
    expect(rb.all()[0].root0).toBe(5);
    expect(b.stats()).toMatchObject({ tuplesIn: 2, acksIn: 1, refusedIn: 1, rejectedConnections: 0, inboundLinks: 1 });
    expect(a.linkState('B')).toBe('open');
  });

  test('a full inbox pauses the link and sends BACKPRESSURE; draining resumes it and wakes the sender', async () => {
    const { a, b, rb, wakes } = await pair({ capacity: 5 });
    close.push(() => a.close(), () => b.close());
    const out = a.outbox('B')!;
    for (let i = 0; i < 8; i++) out.addTuple(1, wordTuple(`w${i}`));
    a.flush();
    await waitFor('BACKPRESSURE on at the sender', () => out.isFull());
    expect(rb.tuplesIn).toBe(8); // the frame that filled the inbox is delivered whole
    expect(b.stats().pausedLinks).toBe(1);
    for (let i = 8; i < 16; i++) out.addTuple(1, wordTuple(`w${i}`)); // a running callback's overshoot
    a.flush();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(rb.tuplesIn).toBe(8); // held back while paused

    b.afterTurn(); // inbox still full: stays paused
    expect(b.stats().pausedLinks).toBe(1);
    rb.inboxes.get(1)!.drain();
    b.afterTurn();
    await waitFor('the held frame', () => rb.tuplesIn === 16);
    // the second frame filled the inbox again: paused again, the sender still full
    await waitFor('paused again', () => b.stats().pausedLinks === 1);
    rb.inboxes.get(1)!.drain();
    b.afterTurn();
    await waitFor('BACKPRESSURE off at the sender', () => !out.isFull());
    expect(wakes.a).toBeGreaterThan(0);
    expect(rb.all()).toHaveLength(0);
  });

  test('a frame over the cap closes only that link; the sender reconnects and later frames arrive', async () => {
    const clock = new ManualClock();
    const { a, b, rb } = await pair({ frameBytesMax: 2048, clock });
    close.push(() => a.close(), () => b.close());
    const out = a.outbox('B')!;
    // the outbox splits batches to the cap, so only a hand-made frame can exceed it
    (out as unknown as { sink: { send(f: Buffer, d: () => void): void } }).sink.send(Buffer.concat([Buffer.from([1, 4]), Buffer.alloc(4096, 0x90)]), () => {});
    await waitFor('link lost', () => a.linkState('B') === 'backoff');
    expect(b.stats().rejectedConnections).toBe(1);
    clock.advance(1000);
    await waitFor('link back', () => a.linkState('B') === 'open');
    out.addTuple(2, wordTuple('after'));
    a.flush();
    await waitFor('delivery', () => rb.tuplesIn === 1);
  });

  test('CONTROL reaches onControl; unknown types are for the receiver to ignore', async () => {
    const { a, b, controls } = await pair();
    close.push(() => a.close(), () => b.close());
    a.outbox('B')!.sendControl({ type: 'assignment-changed', seq: 3 });
    await waitFor('control', () => controls.length === 1);
    expect(controls[0]).toEqual(['A', { type: 'assignment-changed', seq: 3 }]);
  });

  test('removing a peer closes its link and outbox; a peer that restarts is linked again', async () => {
    const { hub, a, b, rb } = await pair();
    close.push(() => a.close());
    await b.close();
    await waitFor('waiting for B', () => a.linkState('B') === 'backoff');
    const b2 = new MemoryTransport(hub, { workerKey: 'B' });
    b2.attach({ receiver: rb, streams: testStreams(), onWritable: () => {} });
    await b2.listen();
    close.push(() => b2.close());
    await waitFor('relinked', () => a.linkState('B') === 'open');
    a.outbox('B')!.addTuple(1, wordTuple('again'));
    a.flush();
    await waitFor('delivery', () => rb.tuplesIn === 1);
    a.setPeers(peersOf());
    expect(a.outbox('B')).toBeUndefined();
    expect(a.linkState('B')).toBeUndefined();
    await waitFor('B sees the link closed', () => b2.stats().inboundLinks === 0);
  });

  test('listen needs an attached runtime; close is idempotent', async () => {
    const t = new MemoryTransport(new MemoryHub(), { workerKey: 'X' });
    await expect(t.listen()).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
    await t.close();
    await t.close();
  });
});
