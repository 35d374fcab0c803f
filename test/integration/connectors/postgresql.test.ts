/**
 * The PostgreSQL upsert sink against a real PostgreSQL 15 (bench/servers): batched multi-row
 * upserts in a LocalCluster (replace and add modes), inputs acked only after the commit, an outage
 * (server killed and restarted mid-run: the coded error is reported, the failed inputs are
 * replayed, nothing is lost), and wrong credentials (a coded error, inputs failed, no crash).
 * The two-phase-commit sink end to end: exactly-once from a replayable source, a bolt that throws
 * once mid-run (the topology rolls back to the last checkpoint and replays), every row once.
 */
import { Client } from 'pg';
import { startPostgres, type PostgresServer } from '../../../bench/servers/postgres';
import { PgTransactionalSinkBolt, PgUpsertSinkBolt } from '../../../connectors/postgresql';
import { LocalCluster } from '../../../local';
import { BaseBasicBolt, BaseRichSpout, GeneratorSpout, TopologyBuilder, type BasicOutputCollector, type OutputFieldsDeclarer, type SpoutOutputCollector, type Tuple } from '../../../topology-api';
import { fakeContext, RecordingBoltCollector, tuple } from '../../unit/connectors/helpers';
import { waitUntil } from './redis-helpers';

jest.setTimeout(90_000);

/** Emits `values(i)` for i < n with message id i (at `perCall` a call), replays failed ones, records acks. */
class ListSpout extends BaseRichSpout {
  private collector!: SpoutOutputCollector;
  private next = 0;
  private readonly replay: number[] = [];
  constructor(
    private readonly n: number,
    private readonly fields: string[],
    private readonly values: (i: number) => unknown[],
    private readonly acked: Set<number>,
  ) {
    super();
  }
  open(_c: unknown, _x: unknown, collector: SpoutOutputCollector): void {
    this.collector = collector;
  }
  nextTuple(): void {
    const i = this.replay.length > 0 ? this.replay.shift()! : this.next < this.n ? this.next++ : -1;
    if (i >= 0) this.collector.emit(this.values(i), i);
  }
  ack(id: unknown): void {
    this.acked.add(id as number);
  }
  fail(id: unknown): void {
    this.replay.push(id as number);
  }
  declareOutputFields(d: { declare(f: string[]): void }): void {
    d.declare(this.fields);
  }
}

let pg: PostgresServer;
let sql: Client;
let cluster: LocalCluster | undefined;

async function query<T = Record<string, unknown>>(text: string): Promise<T[]> {
  return (await sql.query(text)).rows as T[];
}

beforeAll(async () => {
  // two-phase commit: PREPARE TRANSACTION needs max_prepared_transactions > 0
  pg = await startPostgres({ settings: { max_prepared_transactions: 16 } });
  sql = new Client({ connectionString: pg.url });
  sql.on('error', () => undefined);
  await sql.connect();
  await query('CREATE TABLE latest (id int PRIMARY KEY, value int NOT NULL, label text)');
  await query('CREATE TABLE counts (campaign text PRIMARY KEY, n bigint NOT NULL)');
});

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

afterAll(async () => {
  await sql?.end().catch(() => undefined);
  await pg?.stop();
});

it('upserts in multi-row batches (replace and add), acking every input only after its batch committed', async () => {
  const n = 3000;
  const acked = new Set<number>();
  const builder = new TopologyBuilder();
  builder.setSpout('events', () => new ListSpout(n, ['id', 'campaign', 'value'], (i) => [i % 700, `c${i % 7}`, (i % 700) * 2], acked), 1);
  builder.setBolt('latest', () => new PgUpsertSinkBolt({ connectionString: pg.url, table: 'latest', columns: { id: 'id', value: 'value', label: (t) => `v${t.getIntegerByField('value')}` }, key: ['id'], batchSize: 200 }), 2).fieldsGrouping('events', ['id']);
  builder.setBolt('counts', () => new PgUpsertSinkBolt({ connectionString: pg.url, table: 'counts', columns: { campaign: 'campaign', n: () => 1 }, key: ['campaign'], onConflict: 'add', batchSize: 100 }), 1).shuffleGrouping('events');
  cluster = new LocalCluster();
  await cluster.submitTopology('pg', {}, builder);
  await waitUntil('every input acked', () => acked.size === n, 30_000);
  const latest = await query<{ id: number; value: number; label: string }>('SELECT id, value, label FROM latest ORDER BY id');
  expect(latest.length).toBe(700);
  expect(latest.every((r) => r.value === r.id * 2 && r.label === `v${r.id * 2}`)).toBe(true);
  const counts = await query<{ n: string }>('SELECT n FROM counts');
  expect(counts.reduce((s, r) => s + Number(r.n), 0)).toBe(n);
});

it('an outage mid-run: the coded error is reported, failed inputs are replayed, nothing is lost', async () => {
  await query('CREATE TABLE outage (id int PRIMARY KEY, v int NOT NULL)');
  const n = 4000;
  const acked = new Set<number>();
  const builder = new TopologyBuilder();
  builder.setSpout('events', () => new ListSpout(n, ['id'], (i) => [i], acked), 1);
  builder.setBolt('sink', () => new PgUpsertSinkBolt({ connectionString: pg.url, table: 'outage', columns: { id: 'id', v: 'id' }, key: ['id'], batchSize: 50, writeAttempts: 3, reconnectBackoff: { initialMs: 50, maxMs: 300 } }), 1).shuffleGrouping('events');
  cluster = new LocalCluster();
  await cluster.submitTopology('pg-outage', { 'topology.max.spout.pending': 200 }, builder);
  await waitUntil('some rows written', () => acked.size >= 300, 20_000);
  await sql.end().catch(() => undefined);
  await pg.kill9();
  const c = cluster;
  await waitUntil('the outage reported', async () => ((await c.getTopologyInfo('pg-outage')).errors.sink ?? []).some((e) => e.error.includes('ERR_CONNECTOR_CONNECT')), 15_000);
  await pg.restart();
  sql = new Client({ connectionString: pg.url });
  sql.on('error', () => undefined);
  await sql.connect();
  await waitUntil('every input acked after the restart', () => acked.size === n, 60_000);
  expect(Number((await query<{ c: string }>('SELECT count(*) AS c FROM outage'))[0].c)).toBe(n);
});

it('wrong credentials: ERR_CONNECTOR_AUTH is reported and the inputs are failed (replayed), no crash', async () => {
  const secured = await startPostgres({ password: 'right' });
  try {
    const bolt = new PgUpsertSinkBolt({ connectionString: secured.url.replace('right', 'wrong'), table: 't', columns: ['id'], key: ['id'], batchSize: 2, writeAttempts: 2, reconnectBackoff: { initialMs: 10, maxMs: 20 } });
    const collector = new RecordingBoltCollector();
    bolt.prepare({}, fakeContext(0, 1, 'sink'), collector);
    await Promise.all([bolt.execute(tuple([1], ['id'])), bolt.execute(tuple([2], ['id']))]);
    expect(collector.failed.length).toBe(2);
    expect(new Set(collector.codes())).toEqual(new Set(['ERR_CONNECTOR_AUTH']));
    expect(collector.errors.map(String).join('\n')).not.toContain('wrong');
    await bolt.cleanup();
  } finally {
    await secured.stop();
  }
});

/** Once armed, throws at the next input (a failure: exactly-once rolls the topology back), then never again. */
const failOnce = { armed: false, failedAt: -1 };
class FailOnce extends BaseBasicBolt {
  execute(t: Tuple, c: BasicOutputCollector): void {
    const id = t.getInteger(0);
    if (failOnce.armed) {
      failOnce.armed = false;
      failOnce.failedAt = id;
      throw new Error('a failure mid-run');
    }
    c.emit([id]);
  }
  declareOutputFields(d: OutputFieldsDeclarer): void {
    d.declare(['id']);
  }
}

it('exactly-once end to end: a replayable source into the two-phase-commit sink survives a rollback mid-run with every row once', async () => {
  await query('CREATE TABLE once (id int NOT NULL)');
  const n = 3000;
  const b = new TopologyBuilder();
  b.setSpout('in', () => new GeneratorSpout({ fields: ['id'], generate: (i) => [i], count: n, ratePerSec: 2000 }), 1);
  b.setBolt('check', () => new FailOnce(), 2).shuffleGrouping('in');
  b.setBolt('sink', () => new PgTransactionalSinkBolt({ connectionString: pg.url, table: 'once', columns: ['id'], batchSize: 100 }), 2).shuffleGrouping('check');
  cluster = new LocalCluster();
  await cluster.submitTopology('pg-exactly-once', { 'topology.processing.guarantee': 'exactly-once', 'topology.state.checkpoint.interval.ms': 200 }, b);
  const rows = async (): Promise<number> => Number((await query<{ c: string }>('SELECT count(*) AS c FROM once'))[0].c);
  // fail once checkpoints have committed rows: the rollback must keep them and replay only what followed
  await waitUntil('rows of committed checkpoints', async () => (await rows()) >= 300, 30_000);
  const before = await rows();
  failOnce.armed = true;
  await waitUntil('the failure', () => failOnce.failedAt >= 0, 30_000);
  expect(before).toBeLessThan(n);
  await waitUntil('every row committed', async () => (await rows()) >= n, 60_000);
  const [counts] = await query<{ total: string; distinct: string }>('SELECT count(*) AS total, count(DISTINCT id) AS distinct FROM once');
  expect(Number(counts.distinct)).toBe(n);
  expect(Number(counts.total)).toBe(n); // none twice, although the rollback replayed from the last checkpoint
  await cluster.killTopology('pg-exactly-once', { waitSecs: 0 });
  const c = cluster;
  cluster = undefined;
  await c.close();
  // a transaction prepared for a checkpoint that never completed may remain (each sink task's last)
  const prepared = await query<{ gid: string }>("SELECT gid FROM pg_prepared_xacts WHERE gid LIKE 'squall_%'");
  expect(prepared.length).toBeLessThanOrEqual(2);
});
