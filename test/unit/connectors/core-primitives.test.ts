/**
 * Property tests (seeded random) of the connector core's pieces: backoff, the bounded prefetch
 * queue, the retry heap, and the contiguous-prefix offset tracker.
 */
import { Backoff, BoundedQueue, DueQueue, OffsetTracker, seededRng, type Tracked } from '../../../connectors/core';

const SEEDS = Array.from({ length: 12 }, (_, i) => 1000 + i);

describe('Backoff', () => {
  it.each(SEEDS)('stays within [ceiling/2, ceiling], grows, never passes the cap (seed %i)', (seed) => {
    const rng = seededRng(seed);
    const initialMs = 1 + Math.floor(rng() * 200);
    const maxMs = initialMs + Math.floor(rng() * 10_000);
    const b = new Backoff({ initialMs, maxMs }, seededRng(seed + 1));
    let lastCeiling = 0;
    for (let n = 0; n < 40; n++) {
      const ceiling = b.ceilingMs(n);
      const d = b.next();
      expect(ceiling).toBeGreaterThanOrEqual(lastCeiling);
      expect(ceiling).toBeLessThanOrEqual(maxMs);
      expect(d).toBeGreaterThanOrEqual(ceiling / 2);
      expect(d).toBeLessThanOrEqual(ceiling);
      lastCeiling = ceiling;
    }
    expect(b.ceilingMs(39)).toBe(maxMs);
    b.reset();
    expect(b.attempts()).toBe(0);
    expect(b.next()).toBeLessThanOrEqual(initialMs);
  });

  it('jitters: two tasks with different seeds do not retry in lockstep', () => {
    const a = new Backoff({ initialMs: 100, maxMs: 5000 }, seededRng(1));
    const b = new Backoff({ initialMs: 100, maxMs: 5000 }, seededRng(2));
    const same = Array.from({ length: 10 }, () => a.next() === b.next()).filter(Boolean).length;
    expect(same).toBe(0);
  });
});

describe('BoundedQueue', () => {
  it.each(SEEDS)('behaves as a FIFO array never longer than its capacity (seed %i)', (seed) => {
    const rng = seededRng(seed);
    const capacity = 1 + Math.floor(rng() * 50);
    const q = new BoundedQueue<number>(capacity);
    const model: number[] = [];
    let next = 0;
    for (let step = 0; step < 2000; step++) {
      if (rng() < 0.55) {
        if (model.length === capacity) {
          expect(() => q.push(next)).toThrow(expect.objectContaining({ code: 'ERR_INTERNAL' }));
        } else {
          q.push(next);
          model.push(next);
        }
        next++;
      } else if (q.shift() !== model.shift()) throw new Error(`step ${step}: out of order`);
      if (q.size !== model.length || q.room() !== capacity - model.length) throw new Error(`step ${step}: size ${q.size}, model ${model.length}`);
    }
    const drained: number[] = [];
    q.drain((x) => drained.push(x));
    expect(drained).toEqual(model);
  });
});

describe('DueQueue', () => {
  it.each(SEEDS)('pops items earliest-due first, only once due (seed %i)', (seed) => {
    const rng = seededRng(seed);
    const q = new DueQueue<number>();
    const model: Array<{ due: number; id: number }> = [];
    let now = 0;
    let id = 0;
    for (let step = 0; step < 1500; step++) {
      const r = rng();
      if (r < 0.5) {
        const due = now + Math.floor(rng() * 100);
        q.push(id, due);
        model.push({ due, id: id++ });
      } else if (r < 0.8) {
        now += Math.floor(rng() * 30);
      } else {
        const got = q.popDue(now);
        const dueNow = model.filter((m) => m.due <= now);
        if (dueNow.length === 0) expect(got).toBeUndefined();
        else {
          const minDue = Math.min(...dueNow.map((m) => m.due));
          const item = model.find((m) => m.id === got)!;
          expect(item.due).toBe(minDue);
          model.splice(model.indexOf(item), 1);
        }
      }
      if (q.size !== model.length) throw new Error(`step ${step}: size ${q.size}, model ${model.length}`);
      if (q.peekDueMs() !== (model.length ? Math.min(...model.map((m) => m.due)) : Infinity)) throw new Error(`step ${step}: wrong earliest due`);
    }
  });
});

describe('OffsetTracker (contiguous acked prefix, as Storm KafkaSpout)', () => {
  interface Rec extends Tracked {
    done: boolean;
  }

  it.each(SEEDS)('commits exactly the contiguous done prefix of each partition, whatever the ack order (seed %i)', (seed) => {
    const rng = seededRng(seed);
    const tracker = new OffsetTracker<Rec>();
    const partitions = ['p0', 'p1', 'p2'];
    const received: Record<string, Rec[]> = { p0: [], p1: [], p2: [] };
    const notDone: Rec[] = [];
    const lastCommit: Record<string, number> = {};
    for (let step = 0; step < 2000; step++) {
      if (rng() < 0.5) {
        const p = partitions[Math.floor(rng() * partitions.length)];
        const r: Rec = { partition: p, offset: received[p].length, done: false };
        received[p].push(r);
        tracker.received(r);
        notDone.push(r);
      } else if (notDone.length > 0) {
        const r = notDone.splice(Math.floor(rng() * notDone.length), 1)[0];
        tracker.done(r);
      }
      if (rng() < 0.2) {
        const moved = tracker.advance();
        for (const p of partitions) {
          const log = received[p];
          let prefix = -1;
          while (prefix + 1 < log.length && log[prefix + 1].done) prefix++;
          const expected = prefix > (lastCommit[p] ?? -1) ? prefix : undefined;
          if (moved.get(p) !== expected) throw new Error(`${p}: moved to ${moved.get(p)}, the done prefix ends at ${prefix}`);
          if (expected !== undefined) lastCommit[p] = expected;
          // never beyond a record still in flight: the first not-done record is past the commit point
          const firstOpen = log.findIndex((r) => !r.done);
          if (firstOpen >= 0 && firstOpen <= (lastCommit[p] ?? -1)) throw new Error(`${p}: committed ${lastCommit[p]} past in-flight ${firstOpen}`);
        }
      }
    }
    for (const r of notDone.splice(0)) tracker.done(r);
    tracker.advance();
    expect(tracker.size()).toBe(0);
    for (const p of partitions) if (received[p].length) expect(tracker.committed().get(p)).toBe(received[p].length - 1);
  });
});
