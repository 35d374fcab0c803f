/**
 * What a hop between workers costs in serialization alone, and what batching and reusing one
 * msgpackr encoder buy: word tuples (anchored, as word count sends them) encoded into TUPLES
 * frames and decoded back into TupleImpls, in this process, with no socket.
 */
import { Fields, TupleImpl } from '../topology-api';
import { Random } from '../common/random';
import { TupleBatch, createPackr, createUnpackr, decodeTuples, type StreamTable } from '../worker/transport/codec';
import { BENCH_SENTENCES } from './components';
import { median } from './measure';

const TABLE: StreamTable = {
  streams: [{ fields: new Fields('word'), component: 'split', stream: 'default', arity: 1 }],
  taskComponent: ['', 'count', 'count', 'split', '__acker'],
};

function words(n: number): TupleImpl[] {
  const rand = new Random(3);
  const all = BENCH_SENTENCES.join(' ').split(' ');
  const out: TupleImpl[] = [];
  for (let i = 0; i < n; i++) {
    // fresh strings, as split() makes them, anchored to a random root
    const t = new TupleImpl([`${all[i % all.length]}`], TABLE.streams[0].fields, 'split', 3, 'default', rand.nextId53(), rand.next32(), rand.next32(), null);
    t.streamIndex = 0;
    out.push(t);
  }
  return out;
}

const noDrop = (): void => {
  throw new Error('unexpected drop');
};

/** Tuples/s through encode + decode with frames of `perFrame` tuples, for `ms`. */
function roundTrip(tuples: TupleImpl[], perFrame: number, freshEncoder: boolean, ms: number): number {
  let packr = createPackr();
  const unpackr = createUnpackr();
  const batch = new TupleBatch();
  let n = 0;
  let decoded = 0;
  const deadline = performance.now() + ms;
  const t0 = performance.now();
  while (performance.now() < deadline) {
    for (let f = 0; f < 64; f++) {
      if (freshEncoder) packr = createPackr();
      for (let i = 0; i < perFrame; i++) batch.addTuple(1 + (i & 1), tuples[(n + i) % tuples.length]);
      n += perFrame;
      for (const frame of batch.encode(packr, 16 << 20, noDrop)) decoded += decodeTuples(unpackr, TABLE, frame).tuples.length;
    }
  }
  if (decoded !== n) throw new Error('lost tuples');
  return (n / (performance.now() - t0)) * 1000;
}

export interface CodecFigures {
  batched: number;
  freshEncoder: number;
  oneTuplePerFrame: number;
}

/** Medians of 5 runs of each variant after a warm-up. */
export function codecFigures(runMs = 300): CodecFigures {
  const tuples = words(4096);
  roundTrip(tuples, 256, false, 500);
  roundTrip(tuples, 1, false, 200);
  roundTrip(tuples, 256, true, 200);
  const runs = (perFrame: number, fresh: boolean): number => median(Array.from({ length: 5 }, () => roundTrip(tuples, perFrame, fresh, runMs)));
  return { batched: runs(256, false), freshEncoder: runs(256, true), oneTuplePerFrame: runs(1, false) };
}
