/**
 * Transport self-check (not a benchmark suite): two processes on loopback, one WsTransport
 * link, acking off. The parent plays a worker whose executors emit as fast as the outbox allows
 * (parked while it is full, woken by onWritable, as the runtime does); the child decodes into a
 * receiver that only counts. Prints tuples/s as seen by the receiver.
 *
 *   node scripts/build.js && node dist/worker/transport/selfcheck.js [tuples] [batchSize]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Fields, TupleImpl } from '../../topology-api';
import type { StreamTable } from './codec';
import type { LinkReceiver } from './types';
import { WsTransport } from './ws-transport';

const TABLE: StreamTable = {
  streams: [{ fields: new Fields('word'), component: 'split', stream: 'default', arity: 1 }],
  taskComponent: ['', 'split', 'count', 'count'],
};
const NEVER_FULL = { isFull: () => false };
const SECRET = 'selfcheck';

async function receiver(): Promise<void> {
  const total = Number(process.argv[3]);
  let count = 0;
  let firstMs = 0;
  const sink: LinkReceiver = {
    receiveTuple: () => {
      if (count++ === 0) firstMs = performance.now();
      if (count === total) process.send!({ done: true, ms: performance.now() - firstMs });
      return true;
    },
    receiveAck: () => true,
    queueFor: () => NEVER_FULL,
  };
  const t = new WsTransport({ workerKey: 'B', topologyId: 'selfcheck', secret: SECRET, port: 0 });
  t.attach({ receiver: sink, streams: TABLE, onWritable: () => {} });
  await t.listen();
  process.send!({ port: t.port });
  process.on('disconnect', () => void t.close());
}

async function sender(): Promise<void> {
  const total = Number(process.argv[2] ?? 5_000_000);
  const batchSize = Number(process.argv[3] ?? 1024);
  const child: ChildProcess = fork(__filename, ['receiver', String(total)]);
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  let wake: (() => void) | null = null;
  const a = new WsTransport({ workerKey: 'A', topologyId: 'selfcheck', secret: SECRET, port: 0, limits: { batchSize } });
  a.attach({ receiver: { receiveTuple: () => false, receiveAck: () => false, queueFor: () => NEVER_FULL }, streams: TABLE, onWritable: () => wake?.() });
  a.setPeers(new Map([['B', { host: '127.0.0.1', port }]]));
  const done = new Promise<{ ms: number }>((resolve) => child.on('message', (m: { done?: boolean; ms: number }) => m.done && resolve(m)));
  while (a.linkState('B') !== 'open') await new Promise((r) => setTimeout(r, 5));
  const out = a.outbox('B')!;
  const words = ['the', 'cow', 'jumped', 'over', 'moon', 'an', 'apple', 'a', 'day', 'keeps'].map((w) => {
    const t = new TupleImpl([w], TABLE.streams[0].fields, 'split', 1, 'default', 0, 0, 0, null);
    t.streamIndex = 0;
    return t;
  });
  const start = performance.now();
  let sent = 0;
  // one "loop turn": emit until the outbox is full or a turn's budget is spent, then flush
  const turn = (): void => {
    let n = 0;
    while (sent < total && n < 4096 && !out.isFull()) {
      out.addTuple(2 + (sent & 1), words[sent % words.length]);
      sent++;
      n++;
    }
    a.flush();
    if (sent >= total) return;
    if (out.isFull()) wake = () => ((wake = null), setImmediate(turn));
    else setImmediate(turn);
  };
  turn();
  const { ms } = await done;
  const wallMs = performance.now() - start;
  process.stdout.write(
    `${total} tuples, batch ${batchSize}: ${((total / ms) * 1000 / 1e6).toFixed(2)}M tuples/s at the receiver (${ms.toFixed(0)} ms; ${((total / wallMs) * 1000 / 1e6).toFixed(2)}M/s end to end); ${out.stats().framesSent} frames, ${(out.stats().bytesSent / total).toFixed(1)} bytes/tuple\n`,
  );
  child.disconnect();
  await a.close();
}

if (process.argv[2] === 'receiver') void receiver();
else void sender();
