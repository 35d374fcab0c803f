/**
 * The stateful word count of the state chaos run and of test/cluster/checkpoint-faults.test.ts:
 * a paced, replayable sentence generator → split → a stateful count (keyed state, fields on
 * "word"). The committed counts (read from the state backend after the run) are the evidence,
 * compared with `expectedWordCounts(sentences)`.
 *
 * User config (outside topology.*): `swc.sentences` (sentences in all), `swc.rate` (sentences per
 * second per spout task), `swc.go.file` (the spouts start when it exists; it holds the start time,
 * ms since the epoch). The generator is a live source paced by the clock from that time: a spout
 * task that (re)starts after it and is not rewound by the runtime (at-most-once) resumes at the
 * tuple due now, so what was due while it was down is lost, as from a real stream.
 */
import * as fs from 'node:fs';
import {
  BaseBasicBolt,
  BaseRichSpout,
  BaseStatefulBolt,
  SentenceGeneratorSpout,
  TopologyBuilder,
  type BasicOutputCollector,
  type KeyValueState,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type SpoutOutputCollector,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from 'squall';

export const SENTENCES_KEY = 'swc.sentences';
export const RATE_KEY = 'swc.rate';
export const GO_FILE_KEY = 'swc.go.file';

/** How often a spout waiting for the go file looks for it. */
const GO_POLL_MS = 20;

export class PacedSentences extends BaseRichSpout {
  private inner: SentenceGeneratorSpout | null = null;
  private goFile = '';
  private rate = 0;
  private tasks = 1;
  private waitingSince = -1;
  private lastPollMs = 0;
  private started = false;
  /** Offsets the runtime asked for before the generator started. */
  private pendingSeek: unknown = undefined;

  open(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: SpoutOutputCollector): void {
    this.rate = Number(conf[RATE_KEY] ?? 100);
    this.goFile = String(conf[GO_FILE_KEY] ?? '');
    this.tasks = Math.max(1, context.getComponentTasks(context.getThisComponentId()).length);
    this.inner = new SentenceGeneratorSpout({ count: Number(conf[SENTENCES_KEY] ?? 1000), ratePerSec: this.rate });
    this.inner.open(conf, context, collector);
    // started after the go file: a restarted task resumes at the tuple due now (a live stream)
    const t0 = this.goTime();
    if (t0 !== null) {
      this.started = true;
      this.inner.seek({ next: Math.max(0, Math.floor(((Date.now() - t0) / 1000) * this.rate)) });
    }
  }

  private goTime(): number | null {
    if (!this.goFile || !fs.existsSync(this.goFile)) return this.goFile ? null : Date.now();
    const t = Number(fs.readFileSync(this.goFile, 'utf8'));
    return Number.isFinite(t) ? t : Date.now();
  }

  nextTuple(): void {
    if (!this.started) {
      const now = Date.now();
      if (now - this.lastPollMs < GO_POLL_MS) return;
      this.lastPollMs = now;
      if (this.goTime() === null) return;
      this.started = true;
      this.inner!.seek(this.pendingSeek === undefined ? null : this.pendingSeek); // from its first tuple, paced from now
    }
    this.inner!.nextTuple();
  }

  ack(msgId: unknown): void {
    this.inner?.ack(msgId);
  }

  fail(msgId: unknown): void {
    this.inner?.fail(msgId);
  }

  offsets(): unknown {
    return this.inner!.offsets();
  }

  seek(offsets: unknown): void {
    if (this.started) this.inner!.seek(offsets);
    else this.pendingSeek = offsets;
  }

  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['sentence']);
  }
}

export class Split extends BaseBasicBolt {
  execute(t: Tuple, c: BasicOutputCollector): void {
    for (const w of t.getString(0).split(' ')) c.emit([w]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['word']);
  }
}

export class StatefulCount extends BaseStatefulBolt<KeyValueState<string, number>> {
  private counts!: KeyValueState<string, number>;
  private collector!: OutputCollector;
  prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  initState(state: KeyValueState<string, number>): void {
    this.counts = state;
  }
  execute(t: Tuple): void {
    const w = t.getString(0);
    this.counts.put(w, this.counts.get(w, 0) + 1);
    this.collector.ack(t);
  }
}

export default function statefulWordCount(): TopologyBuilder {
  const b = new TopologyBuilder();
  b.setSpout('sentences', () => new PacedSentences(), 2);
  b.setBolt('split', () => new Split(), 2).shuffleGrouping('sentences');
  b.setBolt('count', () => new StatefulCount(), 2).fieldsGrouping('split', ['word']);
  return b;
}
