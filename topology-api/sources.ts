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
  /** at-least-once: this task's offsets (0, 1, ...) of tuples emitted and not yet acked. */
  private incomplete: Set<number> | null = null;
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
    this.incomplete = guarantee === 'at-least-once' ? new Set() : null;
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
    this.incomplete?.add(this.next);
    this.next++;
    this.collector.emit(this.options.generate(i), i);
  }

  ack(msgId: unknown): void {
    const incomplete = this.incomplete;
    if (incomplete === null || typeof msgId !== 'number') return;
    incomplete.delete((msgId - this.taskIndex) / this.tasks);
    while (this.acked < this.next && !incomplete.has(this.acked)) this.acked++;
  }

  fail(msgId: unknown): void {
    if (typeof msgId === 'number') this.retry.push(msgId);
  }

  /** exactly-once: the count emitted; at-least-once: the count before the earliest tuple not acked. */
  offsets(): GeneratorOffsets {
    return { next: this.incomplete === null ? this.next : this.acked };
  }

  seek(offsets: unknown): void {
    const next = (offsets as GeneratorOffsets | null)?.next;
    this.next = typeof next === 'number' && next >= 0 ? next : 0;
    this.retry = [];
    this.incomplete?.clear();
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
