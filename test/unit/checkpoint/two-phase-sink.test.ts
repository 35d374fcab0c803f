/**
 * A two-phase-commit sink writing files (one per transaction, renamed into place on commit), in
 * an exactly-once topology whose middle bolt throws once: every number reaches the committed
 * output exactly once, and nothing of an aborted transaction does.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  BaseBasicBolt,
  BaseStatefulBolt,
  GeneratorSpout,
  IdempotentSinkBolt,
  SentenceGeneratorSpout,
  TopologyBuilder,
  TwoPhaseCommitSinkBolt,
  expectedWordCounts,
  type BasicOutputCollector,
  type KeyValueState,
  type OutputCollector,
  type OutputFieldsDeclarer,
  type TopologyConfig,
  type TopologyContext,
  type Tuple,
} from '../../../topology-api';
import { ManualClock } from '../../../common/clock';
import { LocalCluster } from '../../../local/local-cluster';
import { clearInterimMemory } from '../../../worker/checkpoint/state-source';
import { until } from '../../helpers/components';

interface FileTxn {
  id: string;
}

/** Transactions are files under pending/, committed by a rename into committed/ (idempotent). */
class FileSink extends TwoPhaseCommitSinkBolt<FileTxn> {
  private n = 0;
  private tag = '';
  constructor(private readonly dir: string) {
    super();
  }
  beginTransaction(): FileTxn {
    this.tag ||= `${process.pid}-${Math.random().toString(36).slice(2)}`;
    return { id: `${this.tag}-${this.n++}` };
  }
  invoke(txn: FileTxn, input: Tuple): void {
    fs.appendFileSync(path.join(this.dir, 'pending', txn.id), `${input.getInteger(0)}\n`);
  }
  preCommit(): void {}
  commit(txn: FileTxn): void {
    const from = path.join(this.dir, 'pending', txn.id);
    if (fs.existsSync(from)) fs.renameSync(from, path.join(this.dir, 'committed', txn.id));
  }
  abort(txn: FileTxn): void {
    fs.rmSync(path.join(this.dir, 'pending', txn.id), { force: true });
  }
}

const failOnce = { at: 77 as number | null };
class Pass extends BaseBasicBolt {
  execute(t: Tuple, c: BasicOutputCollector): void {
    const n = t.getInteger(0);
    if (n === failOnce.at) {
      failOnce.at = null;
      throw new Error('once');
    }
    c.emit([n]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['n']);
  }
}

function committedLines(dir: string): number[] {
  const out: number[] = [];
  for (const f of fs.readdirSync(path.join(dir, 'committed'))) {
    for (const line of fs.readFileSync(path.join(dir, 'committed', f), 'utf8').split('\n')) if (line) out.push(Number(line));
  }
  return out.sort((a, b) => a - b);
}

describe('TwoPhaseCommitSinkBolt', () => {
  it('commits each input exactly once across a rollback, and aborts what the rollback undid', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-2pc-'));
    fs.mkdirSync(path.join(dir, 'pending'));
    fs.mkdirSync(path.join(dir, 'committed'));
    clearInterimMemory('sink2pc');
    const clock = new ManualClock();
    const cluster = new LocalCluster({ clock, seed: 3 });
    const count = 200;
    try {
      const b = new TopologyBuilder();
      b.setSpout('numbers', () => new GeneratorSpout({ fields: ['n'], generate: (i) => [i], count }), 2);
      b.setBolt('pass', () => new Pass(), 2).shuffleGrouping('numbers');
      b.setBolt('sink', () => new FileSink(dir), 2).shuffleGrouping('pass');
      await cluster.submitTopology('sink2pc', { 'topology.workers': 2, 'topology.processing.guarantee': 'exactly-once', 'topology.state.checkpoint.interval.ms': 100 }, b);
      await until(() => {
        clock.advance(50);
        return committedLines(dir).length >= count && fs.readdirSync(path.join(dir, 'pending')).length <= 2;
      }, 'every number committed');
      expect(failOnce.at).toBeNull();
      expect(committedLines(dir)).toEqual(Array.from({ length: count }, (_, i) => i));
      // only the transactions open now are pending, and they are empty
      for (const f of fs.readdirSync(path.join(dir, 'pending'))) expect(fs.readFileSync(path.join(dir, 'pending', f), 'utf8')).toBe('');
    } finally {
      await cluster.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

class Split extends BaseBasicBolt {
  execute(t: Tuple, c: BasicOutputCollector): void {
    for (const w of t.getString(0).split(' ')) c.emit([w]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['word']);
  }
}

const throwOnce = { word: 'moon' as string | null };
class Count extends BaseStatefulBolt<KeyValueState<string, number>> {
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
    if (w === throwOnce.word) {
      throwOnce.word = null;
      throw new Error('once');
    }
    const n = this.counts.get(w, 0) + 1;
    this.counts.put(w, n);
    this.collector.emit([w, n], t);
    this.collector.ack(t);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['word', 'count']);
  }
}

/** An external key-value store the sink upserts into. */
const table = new Map<string, number>();
class TableSink extends IdempotentSinkBolt<string, number> {
  keyOf(t: Tuple): string {
    return t.getString(0);
  }
  valueOf(t: Tuple): number {
    return t.getInteger(1);
  }
  async write(entries: ReadonlyArray<[string, number]>): Promise<void> {
    await new Promise((r) => setImmediate(r));
    for (const [k, v] of entries) table.set(k, v);
  }
}

describe('IdempotentSinkBolt', () => {
  it('upserts by key: after a rollback the replayed values overwrite, and the table is exact', async () => {
    clearInterimMemory('sinkidem');
    const clock = new ManualClock();
    const cluster = new LocalCluster({ clock, seed: 5 });
    const count = 150;
    const expected = Object.fromEntries(expectedWordCounts(count));
    try {
      const b = new TopologyBuilder();
      b.setSpout('sentences', () => new SentenceGeneratorSpout({ count }), 1);
      b.setBolt('split', () => new Split(), 2).shuffleGrouping('sentences');
      b.setBolt('count', () => new Count(), 2).fieldsGrouping('split', ['word']);
      b.setBolt('table', () => new TableSink(), 2).fieldsGrouping('count', ['word']);
      await cluster.submitTopology('sinkidem', { 'topology.workers': 2, 'topology.processing.guarantee': 'exactly-once', 'topology.state.checkpoint.interval.ms': 100 }, b);
      await until(() => {
        clock.advance(50);
        return JSON.stringify(Object.fromEntries([...table].sort())) === JSON.stringify(Object.fromEntries(Object.entries(expected).sort()));
      }, 'the table holds every final count');
      expect(throwOnce.word).toBeNull();
    } finally {
      await cluster.close();
    }
  });
});
