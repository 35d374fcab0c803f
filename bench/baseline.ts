/**
 * The physical limit: word count as one hand-written loop in one process (split + Map), over the
 * same sentence cycle the topologies use. Every topology figure is also printed as a ratio of it.
 */
import { BENCH_SENTENCES } from './components';

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
