import type { TopologyConfig } from './config';
import { BaseRichSpout, type OutputFieldsDeclarer, type SpoutOutputCollector, type TopologyContext } from './components';

/** Offsets of a GeneratorSpout task: how many of its tuples it has emitted. */
export interface GeneratorOffsets {
  next: number;
}

export interface GeneratorSpoutOptions {
  /** Fields of the default stream. */
  fields: readonly string[];
  /** The values of tuple `i` (0-based over the whole spout): must depend on `i` only. */
  generate: (i: number) => unknown[];
  /** Tuples to emit over every task, then stop; default: no end. */
  count?: number;
  /** Tuples per second per task; default: as fast as the topology takes them. */
  ratePerSec?: number;
}

/**
 * A replayable spout that needs no external system: tuple `i` is `generate(i)`, so it can rewind
 * to any position (exactly-once: `offsets()` is the count emitted, `seek` resumes there) and
 * replay a failed tuple (at-least-once: `fail(i)` emits tuple `i` again). Under at-least-once,
 * `offsets()` is the count before its earliest tuple whose tree has not completed (the acked
 * prefix, as Storm's KafkaSpout commits): a restarted task resumes there, so a tuple that failed
 * (or was still in flight) when its task died is emitted again even if a later checkpoint
 * committed. Task k of n emits the tuples whose index is k modulo n; with `count`, the whole
 * spout emits tuples 0..count-1 once. The message id of a tuple is its index.
 */
export class GeneratorSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private taskIndex = 0;
  private tasks = 1;
  /** Tuples this task has emitted (its offset); its next index is taskIndex + next × tasks. */
  private next = 0;
  private retry: number[] = [];
  private startedMs = 0;
  /**
   * at-least-once: which of this task's offsets in [acked, next) are acked, a ring indexed by
   * offset & (length - 1) (grown when full; a byte per tuple pending, no allocation per tuple).
   */
  private done: Uint8Array | null = null;
  /** at-least-once: every tuple of this task before this offset has been acked. */
  private acked = 0;

  constructor(private readonly options: GeneratorSpoutOptions) {
    super();
  }

  open(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
    this.taskIndex = Math.max(0, context.getThisTaskIndex());
    this.tasks = Math.max(1, context.getComponentTasks(context.getThisComponentId()).length);
    this.startedMs = Date.now();
    const guarantee = conf['topology.processing.guarantee'] ?? 'at-least-once';
    this.done = guarantee === 'at-least-once' ? new Uint8Array(1024) : null;
  }

  nextTuple(): void {
    if (this.retry.length > 0) {
      const i = this.retry.shift()!;
      this.collector.emit(this.options.generate(i), i);
      return;
    }
    const i = this.taskIndex + this.next * this.tasks;
    if (this.options.count !== undefined && i >= this.options.count) return;
    const rate = this.options.ratePerSec;
    if (rate !== undefined && this.next >= ((Date.now() - this.startedMs) / 1000) * rate) return;
    if (this.done !== null) this.pending(this.next);
    this.next++;
    this.collector.emit(this.options.generate(i), i);
  }

  /** at-least-once: offset `k` (= next) emitted, not acked yet. */
  private pending(k: number): void {
    let done = this.done!;
    if (k - this.acked >= done.length) {
      const grown = new Uint8Array(done.length * 2);
      for (let j = this.acked; j < k; j++) grown[j & (grown.length - 1)] = done[j & (done.length - 1)];
      this.done = done = grown;
    }
    done[k & (done.length - 1)] = 0;
  }

  ack(msgId: unknown): void {
    const done = this.done;
    if (done === null || typeof msgId !== 'number') return;
    const k = (msgId - this.taskIndex) / this.tasks;
    if (k < this.acked || k >= this.next) return;
    const mask = done.length - 1;
    done[k & mask] = 1;
    while (this.acked < this.next && done[this.acked & mask] === 1) this.acked++;
  }

  fail(msgId: unknown): void {
    if (typeof msgId === 'number') this.retry.push(msgId);
  }

  /** exactly-once: the count emitted; at-least-once: the count before the earliest tuple not acked. */
  offsets(): GeneratorOffsets {
    return { next: this.done === null ? this.next : this.acked };
  }

  seek(offsets: unknown): void {
    const next = (offsets as GeneratorOffsets | null)?.next;
    this.next = typeof next === 'number' && next >= 0 ? next : 0;
    this.retry = [];
    this.acked = this.next;
    this.startedMs = Date.now() - (this.next / (this.options.ratePerSec ?? Infinity)) * 1000;
  }

  /** Tuples this task has emitted (its offset). */
  emittedCount(): number {
    return this.next;
  }

  declareOutputFields(declarer: OutputFieldsDeclarer): void {
    declarer.declare([...this.options.fields]);
  }
}

const WORDS = ['the', 'cow', 'jumped', 'over', 'moon', 'an', 'apple', 'a', 'day', 'keeps', 'doctor', 'away', 'four', 'score', 'and', 'seven', 'years', 'ago', 'snow', 'white', 'dwarfs', 'i', 'am', 'at', 'two', 'with', 'nature'];

/** Sentence `i` of the deterministic generator: 3 to 7 words picked by a hash of `i`. */
export function generatedSentence(i: number): string {
  let h = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  const n = 3 + (h % 5);
  const words: string[] = [];
  for (let k = 0; k < n; k++) {
    h = Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
    words.push(WORDS[h % WORDS.length]);
  }
  return words.join(' ');
}

/** Word counts of sentences 0..count-1: what a stateful word count over them must end with. */
export function expectedWordCounts(count: number): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < count; i++) for (const w of generatedSentence(i).split(' ')) out.set(w, (out.get(w) ?? 0) + 1);
  return out;
}

/** A GeneratorSpout of sentences (field `sentence`): replayable word-count input. */
export class SentenceGeneratorSpout extends GeneratorSpout {
  constructor(options: { count?: number; ratePerSec?: number } = {}) {
    super({ fields: ['sentence'], generate: (i) => [generatedSentence(i)], ...options });
  }
}
