/**
 * The physical limit: word count as one hand-written loop in one process (split + Map), over the
 * same sentence cycle the topologies use. Every topology figure is also printed as a ratio of it.
 */
import { BENCH_SENTENCES, SimulatedIo } from './components';

export function handWrittenWordCount(durationMs: number): number {
  const counts = new Map<string, number>();
  let words = 0;
  let i = 0;
  const deadline = performance.now() + durationMs;
  while (performance.now() < deadline) {
    // check the clock every 1000 sentences, so the loop measures split + count, not the clock
    for (let k = 0; k < 1000; k++) {
      const parts = BENCH_SENTENCES[i++ % BENCH_SENTENCES.length].split(' ');
      for (let j = 0; j < parts.length; j++) counts.set(parts[j], (counts.get(parts[j]) ?? 0) + 1);
      words += parts.length;
    }
  }
  if (counts.size === 0) throw new Error('unreachable');
  return (words / durationMs) * 1000;
}

/**
 * The limit of the async scenario without Squall: `concurrency` hand-written async loops, each
 * awaiting the same simulated I/O call (`ioMs`) and then handing its value on, in this process.
 * Resolves with calls completed per second over `durationMs`.
 */
export async function handWrittenAsync(durationMs: number, concurrency: number, ioMs: number): Promise<number> {
  const io = new SimulatedIo(ioMs);
  let done = 0;
  let stop = false;
  const sink: unknown[] = [];
  const loop = async (): Promise<void> => {
    while (!stop) {
      await io.call();
      sink[done++ & 1023] = 'some data';
    }
  };
  const t0 = performance.now();
  const loops = Array.from({ length: concurrency }, loop);
  await new Promise((r) => setTimeout(r, durationMs));
  stop = true;
  const rate = (done / (performance.now() - t0)) * 1000;
  await Promise.all(loops);
  return rate;
}
