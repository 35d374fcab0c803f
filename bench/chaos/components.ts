/**
 * Components of the chaos run and the fault tests (test/fixtures/faults): a reliable word count
 * whose spout keeps a ledger on disk, so a process outside the topology can tell which message ids
 * were emitted and acked, when, and by which process, whatever was killed meanwhile.
 *
 * Ledger files, in the directory named by the topology config key `ledger.dir` (or the cluster
 * tests' `test.output.dir`), one JSON object per line, each line written by one synchronous
 * append (a kill -9 loses at most the line being written, never half of one):
 *
 *   <component>-<task>.emitted.jsonl   {id, pid, t}        every emit, replays included
 *   <component>-<task>.acked.jsonl     {id, pid, t}        every ack() the spout got
 *   <component>-<task>.events.jsonl    {event, pid, t, ...} open, fail, activate, deactivate
 *
 * `t` is the wall clock (Date.now()) of the process that wrote the line; every process of a test
 * cluster runs on one machine, so times from different processes compare. bench/chaos/ledger.ts
 * reads these files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BaseBasicBolt,
  BaseRichBolt,
  BaseRichSpout,
  type BasicOutputCollector,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from 'squall';

/** Topology config keys (user keys, outside topology.*) the ledger components read. */
export const LEDGER_DIR_KEY = 'ledger.dir';
/** The cluster tests' harness passes its output directory under this key; used when `ledger.dir` is absent. */
export const TEST_OUTPUT_DIR_KEY = 'test.output.dir';
/** How many numbered messages the spout emits in all (absent or null: no end). */
export const INPUT_COUNT_KEY = 'ledger.input.count';
/** Messages per second per spout task (absent or 0: as fast as the topology takes them). */
export const SPOUT_RATE_KEY = 'ledger.spout.rate';
/**
 * A file whose existence ends the input: the spout then emits no new ids, only replays of failed
 * ones, so everything already emitted can still complete (deactivating would stop replays too).
 */
export const STOP_FILE_KEY = 'ledger.stop.file';
/** How often the spout looks for the stop file. */
const STOP_CHECK_MS = 100;

/** The ledger directory of a topology (created if missing). */
export function ledgerDir(conf: Readonly<TopologyConfig>): string {
  const dir = conf[LEDGER_DIR_KEY] ?? conf[TEST_OUTPUT_DIR_KEY];
  if (typeof dir !== 'string' || dir.length === 0) throw new Error(`the topology config lacks "${LEDGER_DIR_KEY}"`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

/** Appends JSON lines to one file, one synchronous write per line. */
export class JsonLines {
  constructor(readonly file: string) {}
  append(value: unknown): void {
    fs.appendFileSync(this.file, JSON.stringify(value) + '\n');
  }
}

const WORDS = ['the', 'cow', 'jumped', 'over', 'moon', 'an', 'apple', 'a', 'day', 'keeps', 'doctor', 'away', 'four', 'score', 'seven', 'years'];

/** The words of numbered sentence `n` (deterministic). */
export function sentenceOf(n: number): string {
  const length = 3 + (n % 5);
  const words: string[] = [];
  for (let i = 0; i < length; i++) words.push(WORDS[(n * 7 + i * i * 3 + i) % WORDS.length]);
  return words.join(' ');
}

/** Every id in the acked (or emitted) files of a spout component (complete lines only). */
export function ledgerIds(dir: string, component: string, kind: 'acked' | 'emitted'): Set<number> {
  const ids = new Set<number>();
  const pattern = new RegExp(`^${component.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+\\.${kind}\\.jsonl$`);
  for (const name of fs.readdirSync(dir)) {
    if (!pattern.test(name)) continue;
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    for (const line of text.slice(0, text.lastIndexOf('\n') + 1).split('\n')) if (line) ids.add((JSON.parse(line) as { id: number }).id);
  }
  return ids;
}

/**
 * A reliable spout over the numbered input 0, 1, 2, ... (Storm's Kafka spout in miniature): task
 * `i` of `k` emits the numbers n with n % k == i, with message id n; a failed message is emitted
 * again; acked ids go to the ledger. A task that starts again (its worker was killed or moved)
 * reads its component's ledger and resumes after the highest id of its share ever emitted,
 * replaying every unacked id up to it: the acked files are the committed offsets, the emitted
 * files the read position.
 */
export class LedgerSpout extends BaseRichSpout {
  protected collector!: SpoutOutputCollector;
  private emitted!: JsonLines;
  private acked!: JsonLines;
  protected events!: JsonLines;
  private count = Infinity;
  private intervalMs = 0;
  private nextAtMs = 0;
  private next = 0;
  private stride = 1;
  private readonly replay: number[] = [];
  private stopFile: string | null = null;
  private stopped = false;
  private stopCheckedMs = 0;

  constructor(
    private readonly fields: readonly string[] = ['sentence'],
    private readonly values: (n: number) => unknown[] = (n) => [sentenceOf(n)],
  ) {
    super();
  }

  open(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: SpoutOutputCollector): void {
    this.collector = collector;
    const dir = ledgerDir(conf);
    const component = context.getThisComponentId();
    const base = path.join(dir, `${component}-${context.getThisTaskId()}`);
    this.emitted = new JsonLines(`${base}.emitted.jsonl`);
    this.acked = new JsonLines(`${base}.acked.jsonl`);
    this.events = new JsonLines(`${base}.events.jsonl`);
    const count = conf[INPUT_COUNT_KEY];
    this.count = typeof count === 'number' ? count : Infinity;
    const rate = conf[SPOUT_RATE_KEY];
    this.intervalMs = typeof rate === 'number' && rate > 0 ? 1000 / rate : 0;
    const stopFile = conf[STOP_FILE_KEY];
    this.stopFile = typeof stopFile === 'string' && stopFile.length > 0 ? stopFile : null;
    this.stride = context.getComponentTasks(component).length;
    this.next = context.getThisTaskIndex();
    this.resume(ledgerIds(dir, component, 'acked'), ledgerIds(dir, component, 'emitted'));
    this.events.append({ event: 'open', pid: process.pid, t: Date.now(), task: context.getThisTaskId(), replays: this.replay.length, next: this.next });
  }

  /** Starts after the highest emitted id of this task's share and replays the unacked ones up to it. */
  private resume(acked: ReadonlySet<number>, emitted: ReadonlySet<number>): void {
    let highest = -1;
    for (const id of emitted) if (id % this.stride === this.next % this.stride && id > highest) highest = id;
    for (let id = this.next; id <= highest; id += this.stride) if (!acked.has(id)) this.replay.push(id);
    if (highest >= 0) this.next = highest + this.stride;
  }

  nextTuple(): void {
    if (this.intervalMs > 0) {
      const now = performance.now();
      if (now < this.nextAtMs) return;
      // catch up at most 50 ms worth after a pause (deactivation, backpressure, a stall)
      this.nextAtMs = Math.max(this.nextAtMs, now - 50) + this.intervalMs;
    }
    let id = this.replay.shift();
    if (id === undefined) {
      if (this.next >= this.count || this.inputStopped()) return;
      id = this.next;
      this.next += this.stride;
    }
    this.emitted.append({ id, pid: process.pid, t: Date.now() });
    this.collector.emit(this.values(id), id);
  }

  /** True once the stop file exists (looked for at most every STOP_CHECK_MS). */
  private inputStopped(): boolean {
    if (this.stopped || this.stopFile === null) return this.stopped;
    const now = performance.now();
    if (now - this.stopCheckedMs < STOP_CHECK_MS) return false;
    this.stopCheckedMs = now;
    this.stopped = fs.existsSync(this.stopFile);
    if (this.stopped) this.events.append({ event: 'stopped', pid: process.pid, t: Date.now(), next: this.next });
    return this.stopped;
  }

  ack(id: unknown): void {
    this.acked.append({ id, pid: process.pid, t: Date.now() });
  }

  fail(id: unknown): void {
    this.events.append({ event: 'fail', id, pid: process.pid, t: Date.now() });
    this.replay.push(id as number);
  }

  activate(): void {
    this.events.append({ event: 'activate', pid: process.pid, t: Date.now() });
  }

  deactivate(): void {
    this.events.append({ event: 'deactivate', pid: process.pid, t: Date.now() });
  }

  declareOutputFields(declarer: OutputFieldsDeclarer): void {
    declarer.declare([...this.fields]);
  }
}

/** Splits a sentence into words, anchored to it (BaseBasicBolt acks the input after execute). */
export class SplitSentence extends BaseBasicBolt {
  execute(input: Tuple, collector: BasicOutputCollector): void {
    for (const word of input.getString(0).split(' ')) if (word.length > 0) collector.emit([word]);
  }
  declareOutputFields(declarer: OutputFieldsDeclarer): void {
    declarer.declare(['word']);
  }
}

/** Counts words in memory (fields grouping on "word") and acks each one; writes nothing. */
export class CountWords extends BaseRichBolt {
  private collector!: OutputCollector;
  private readonly counts = new Map<string, number>();

  prepare(_conf: Readonly<TopologyConfig>, _context: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }

  execute(input: Tuple): void {
    const word = input.getString(0);
    this.counts.set(word, (this.counts.get(word) ?? 0) + 1);
    this.collector.ack(input);
  }
}
