import type { Client } from 'pg';
import { TwoPhaseCommitSinkBolt, type MaybePromise, type OutputCollector, type TopologyConfig, type TopologyContext, type Tuple } from '../../topology-api';
import { checkOptions, connectorError, intOption, messageOf, oneOfOption, stringOption } from '../core';
import { classifyPgError, connectionProblems, connectPg, describeTarget, endPg, SYSTEM, type PgConnectionOptions } from './connection';
import { mergeByKey, upsertSql } from './upsert-sink';

export interface PgTransactionalSinkOptions extends PgConnectionOptions {
  table: string;
  /** Column → tuple field (or function of the tuple); an array: each column from the field of its name. */
  columns: Readonly<Record<string, string | ((input: Tuple) => unknown)>> | readonly string[];
  /** Conflict target for `onConflict` (none: plain INSERTs). */
  key?: readonly string[];
  onConflict?: 'replace' | 'add' | 'ignore';
  /** Rows sent to PostgreSQL in one statement inside the open transaction. Default 500. */
  batchSize?: number;
}

/** A transaction's handle as the checkpoint stores it: its global id for PREPARE TRANSACTION. */
export interface PgTransaction {
  gid: string;
}

/** SQLSTATE 42704: `prepared transaction with identifier "..." does not exist`. */
const UNDEFINED_OBJECT = '42704';

/**
 * End-to-end exactly-once into PostgreSQL, on the checkpoint runtime's two-phase-commit base
 * (Flink's TwoPhaseCommitSinkFunction): every input of a checkpoint interval goes into one
 * database transaction (rows sent in batches of `batchSize` as they come); at the checkpoint
 * barrier the transaction is flushed and `PREPARE TRANSACTION`ed (durable, survives a crash of
 * Squall or PostgreSQL) and recorded in the checkpoint; when every task has prepared, it is
 * `COMMIT PREPARED`; a rollback or a crash before that makes it `ROLLBACK PREPARED`. Rows become
 * visible when their checkpoint completes. Needs `max_prepared_transactions` > 0 on the server
 * (at least the sink's tasks × 2). See docs/connectors/postgresql.md.
 */
export class PgTransactionalSinkBolt extends TwoPhaseCommitSinkBolt<PgTransaction> {
  private client: Client | null = null;
  private connecting: Promise<Client> | null = null;
  /** Rows of the open transaction not yet sent, and that transaction's id. */
  private rows: unknown[][] = [];
  private rowsOf = '';
  /** The transaction the session has begun (BEGIN sent), if any. */
  private begun: string | null = null;
  /** Writes of the open transaction run one after another. */
  private chain: Promise<void> = Promise.resolve();
  /** A failure lost the open transaction's earlier rows: its preCommit must fail (so the checkpoint rolls back). */
  private broken: unknown = null;
  private readonly columnNames: string[];
  private readonly getters: Array<(input: Tuple) => unknown>;
  private readonly where: string;
  private sequence = 0;
  private prefix = '';
  private name = 'squall';

  constructor(private readonly options: PgTransactionalSinkOptions) {
    super();
    const cols = options.columns as PgTransactionalSinkOptions['columns'] | undefined;
    const names = cols === undefined || cols === null ? [] : Array.isArray(cols) ? [...(cols as readonly string[])] : Object.keys(cols);
    checkOptions(SYSTEM, [
      ...connectionProblems(options),
      stringOption('table', options.table, true),
      names.length === 0 ? '"columns" must name at least one column' : undefined,
      ...(options.key ?? []).map((k) => (names.includes(k) ? undefined : `key column "${k}" is not in "columns"`)),
      options.onConflict !== undefined && (options.key ?? []).length === 0 ? '"onConflict" needs "key"' : undefined,
      oneOfOption('onConflict', options.onConflict, ['replace', 'add', 'ignore']),
      intOption('batchSize', options.batchSize, 1),
    ]);
    this.columnNames = names;
    this.getters = names.map((name) => {
      const from = Array.isArray(cols) ? name : (cols as Record<string, string | ((t: Tuple) => unknown)>)[name];
      return typeof from === 'function' ? from : (t: Tuple) => t.getValueByField(from);
    });
    this.where = describeTarget(options);
  }

  prepare(conf: Readonly<TopologyConfig>, context: TopologyContext, collector: OutputCollector): void {
    super.prepare(conf, context, collector);
    this.name = `squall-${context.getThisComponentId()}-${context.getThisTaskIndex()}`;
    // unique across tasks and restarts: a restarted task must not reuse a prepared id
    this.prefix = `squall_${context.getStormId()}_${context.getThisComponentId()}_${context.getThisTaskIndex()}_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.replace(/[^A-Za-z0-9_]/g, '_');
  }

  beginTransaction(): PgTransaction {
    return { gid: `${this.prefix}_${this.sequence++}` };
  }

  invoke(txn: PgTransaction, input: Tuple): MaybePromise {
    this.rowsOf = txn.gid;
    const row = new Array<unknown>(this.getters.length);
    for (let i = 0; i < row.length; i++) {
      const v = this.getters[i](input);
      row[i] = v === undefined ? null : v;
    }
    this.rows.push(row);
    if (this.rows.length < (this.options.batchSize ?? 500)) return undefined;
    return this.send(txn);
  }

  /**
   * Runs `step` after every earlier statement of this task: the session's statements (BEGIN,
   * batches, PREPARE, COMMIT/ROLLBACK PREPARED) go out in order. A failed step does not stop the
   * later ones (the chain itself never rejects).
   */
  private enqueue<T>(step: () => Promise<T>): Promise<T> {
    const run = this.chain.then(step);
    this.chain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Sends the buffered rows into `txn`. */
  private send(txn: PgTransaction): Promise<void> {
    const rows = this.rows;
    this.rows = [];
    return this.enqueue(() => this.write(txn, rows));
  }

  /** BEGIN (once per transaction) and one statement for `rows`; a failure marks the transaction broken. */
  private async write(txn: PgTransaction, rows: unknown[][]): Promise<void> {
    if (this.broken !== null || rows.length === 0) return;
    try {
      const c = await this.session();
      if (this.begun !== txn.gid) {
        await c.query('BEGIN');
        this.begun = txn.gid;
      }
      const key = this.options.key ?? [];
      const merged = key.length > 0 ? mergeByKey(rows, key.map((k) => this.columnNames.indexOf(k)), this.options.onConflict ?? 'replace') : rows;
      await c.query(upsertSql(this.options.table, this.columnNames, key, this.options.onConflict ?? 'replace', merged.length), merged.flat());
    } catch (err) {
      this.fault(err);
    }
  }

  /** The open transaction's rows are lost with its session: remembered, so its preCommit fails. */
  private fault(err: unknown): void {
    this.broken = err;
    this.begun = null;
    const c = this.client;
    this.client = null;
    void endPg(c);
    this.collector.reportError(classifyPgError(err, 'write', this.where));
  }

  preCommit(txn: PgTransaction): MaybePromise {
    const rows = this.rows;
    this.rows = [];
    return this.enqueue(async () => {
      await this.write(txn, rows);
      const broken = this.broken;
      this.broken = null;
      if (broken !== null) throw connectorError('ERR_CONNECTOR_IO', SYSTEM, `${this.where}: transaction ${txn.gid} lost its session before PREPARE: ${messageOf(broken)}`, broken);
      if (this.begun !== txn.gid) return; // nothing was written: nothing to prepare (commit and abort tolerate it)
      try {
        await this.client!.query(`PREPARE TRANSACTION '${txn.gid}'`);
        this.begun = null;
      } catch (err) {
        this.fault(err);
        throw classifyPgError(err, 'write', this.where);
      }
    });
  }

  commit(txn: PgTransaction): Promise<void> {
    return this.enqueue(() => this.finish(`COMMIT PREPARED '${txn.gid}'`));
  }

  abort(txn: PgTransaction): Promise<void> {
    if (this.rowsOf === txn.gid) this.rows = [];
    return this.enqueue(async () => {
      if (this.begun === txn.gid) {
        // the open transaction, never prepared: it goes with the session's rollback
        this.begun = null;
        this.broken = null;
        const c = this.client;
        if (c !== null) await c.query('ROLLBACK').catch((err: unknown) => this.fault(err));
        this.broken = null;
        return;
      }
      await this.finish(`ROLLBACK PREPARED '${txn.gid}'`);
    });
  }

  /** COMMIT/ROLLBACK PREPARED, idempotent: an unknown id was already finished (or never prepared). */
  private async finish(sql: string): Promise<void> {
    try {
      const c = await this.session();
      await c.query(sql);
    } catch (err) {
      if ((err as { code?: unknown }).code === UNDEFINED_OBJECT) return;
      const coded = classifyPgError(err, 'write', this.where);
      this.collector.reportError(coded);
      const c = this.client;
      this.client = null;
      void endPg(c);
      throw coded;
    }
  }

  private session(): Promise<Client> {
    if (this.client !== null) return Promise.resolve(this.client);
    this.connecting ??= connectPg(this.options, this.name, (err) => {
      // the server went away between statements: the open transaction is lost
      if (this.begun !== null) this.broken = err;
      this.begun = null;
      this.client = null;
    }).then(
      (c) => {
        this.client = c;
        this.connecting = null;
        return c;
      },
      (err: unknown) => {
        this.connecting = null;
        throw classifyPgError(err, 'connect', this.where);
      },
    );
    return this.connecting;
  }

  cleanup(): void {
    const c = this.client;
    this.client = null;
    void endPg(c);
  }
}
