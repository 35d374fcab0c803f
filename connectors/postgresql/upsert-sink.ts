import type { Client } from 'pg';
import type { SquallError, TopologyConfig, TopologyContext, Tuple } from '../../topology-api';
import { BatchingSinkBolt, checkSinkOptions, connectorError, oneOfOption, stringOption, type BatchingSinkOptions, type Operation, type SinkWriter } from '../core';
import { classifyPgError, connectionProblems, connectPg, describeTarget, endPg, quoteIdent, SYSTEM, type PgConnectionOptions } from './connection';

export interface PgUpsertSinkOptions extends BatchingSinkOptions, PgConnectionOptions {
  /** The table (optionally `schema.table`). */
  table: string;
  /** Column → tuple field (or function of the tuple); default: each tuple field to the column of its name. */
  columns: Readonly<Record<string, string | ((input: Tuple) => unknown)>> | readonly string[];
  /** The conflict target: the primary key or a unique index's columns. */
  key: readonly string[];
  /**
   * On a key already present: `replace` the other columns (default; idempotent: a replay writes
   * the same values), `add` them to the stored values (counters; a replay adds again), or
   * `ignore` the new row (first write wins; idempotent).
   */
  onConflict?: 'replace' | 'add' | 'ignore';
}

type Row = unknown[];

/** `INSERT ... VALUES (...), (...) ON CONFLICT (key) DO ...` for `rows` rows (no key: a plain INSERT). */
export function upsertSql(table: string, columns: readonly string[], key: readonly string[], onConflict: 'replace' | 'add' | 'ignore', rows: number): string {
  const cols = columns.map(quoteIdent).join(', ');
  const values: string[] = [];
  let p = 1;
  for (let r = 0; r < rows; r++) {
    const row: string[] = [];
    for (let c = 0; c < columns.length; c++) row.push(`$${p++}`);
    values.push(`(${row.join(', ')})`);
  }
  const t = quoteIdent(table);
  if (key.length === 0) return `INSERT INTO ${t} (${cols}) VALUES ${values.join(', ')}`;
  const rest = columns.filter((c) => !key.includes(c));
  let action: string;
  if (onConflict === 'ignore' || rest.length === 0) action = 'DO NOTHING';
  else if (onConflict === 'add') action = `DO UPDATE SET ${rest.map((c) => `${quoteIdent(c)} = ${t}.${quoteIdent(c)} + EXCLUDED.${quoteIdent(c)}`).join(', ')}`;
  else action = `DO UPDATE SET ${rest.map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`).join(', ')}`;
  return `INSERT INTO ${t} (${cols}) VALUES ${values.join(', ')} ON CONFLICT (${key.map(quoteIdent).join(', ')}) ${action}`;
}

/**
 * Rows with the same key in one statement make PostgreSQL refuse it ("cannot affect row a second
 * time"), so a batch is merged by key first: the last row wins (`replace`), the first does
 * (`ignore`), or the values are summed (`add`). Order of first appearance is kept.
 */
export function mergeByKey(rows: readonly Row[], keyIdx: readonly number[], onConflict: 'replace' | 'add' | 'ignore'): Row[] {
  const byKey = new Map<string, Row>();
  for (const row of rows) {
    const k = keyIdx.length === 1 ? String(row[keyIdx[0]]) : JSON.stringify(keyIdx.map((i) => row[i]));
    const prev = byKey.get(k);
    if (prev === undefined) byKey.set(k, [...row]);
    else if (onConflict === 'replace') byKey.set(k, [...row]);
    else if (onConflict === 'add') for (let i = 0; i < row.length; i++) if (!keyIdx.includes(i)) prev[i] = Number(prev[i]) + Number(row[i]);
  }
  return [...byKey.values()];
}

/** PostgreSQL allows 65535 parameters per statement. */
const MAX_PARAMS = 65_535;

class PgUpsertWriter implements SinkWriter<Row> {
  readonly system = SYSTEM;
  private client: Client | null = null;
  private readonly where: string;
  private readonly keyIdx: number[];
  private readonly sqlByRows = new Map<number, string>();

  constructor(
    private readonly o: PgUpsertSinkOptions,
    private readonly columnNames: readonly string[],
    private readonly name: string,
  ) {
    this.where = describeTarget(o);
    this.keyIdx = o.key.map((k) => columnNames.indexOf(k));
  }

  async connect(): Promise<void> {
    await endPg(this.client);
    this.client = null;
    this.client = await connectPg(this.o, this.name, () => undefined);
  }

  async write(items: readonly Row[]): Promise<void> {
    const c = this.client;
    if (c === null) throw connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, `${this.where}: not connected`);
    const mode = this.o.onConflict ?? 'replace';
    const rows = mergeByKey(items, this.keyIdx, mode);
    const perStatement = Math.max(1, Math.floor(MAX_PARAMS / this.columnNames.length));
    if (rows.length <= perStatement) {
      await c.query(this.sql(rows.length), rows.flat());
      return;
    }
    // a batch too large for one statement: several, in one transaction (all or nothing)
    await c.query('BEGIN');
    try {
      for (let i = 0; i < rows.length; i += perStatement) {
        const chunk = rows.slice(i, i + perStatement);
        await c.query(this.sql(chunk.length), chunk.flat());
      }
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private sql(rows: number): string {
    let s = this.sqlByRows.get(rows);
    if (s === undefined) {
      s = upsertSql(this.o.table, this.columnNames, this.o.key, this.o.onConflict ?? 'replace', rows);
      // statements for the common batch sizes are kept (a full batch and the timer's partial ones)
      if (this.sqlByRows.size < 64) this.sqlByRows.set(rows, s);
    }
    return s;
  }

  classify(err: unknown, during: Operation): SquallError {
    return classifyPgError(err, during, this.where);
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    await endPg(c);
  }
}

/**
 * PostgreSQL batched upsert sink: each input becomes a row; a batch is one multi-row
 * `INSERT ... ON CONFLICT` statement (one round trip), written on a size threshold, a short timer
 * and tick tuples; inputs are acked only after PostgreSQL confirmed it. See
 * docs/connectors/postgresql.md.
 */
export class PgUpsertSinkBolt extends BatchingSinkBolt<Row, PgUpsertSinkOptions> {
  protected readonly system = SYSTEM;
  private readonly columnNames: string[];
  private readonly getters: Array<(input: Tuple) => unknown>;

  constructor(options: PgUpsertSinkOptions) {
    super(options);
    const cols = options.columns as PgUpsertSinkOptions['columns'] | undefined;
    const names = cols === undefined || cols === null ? [] : Array.isArray(cols) ? [...(cols as readonly string[])] : Object.keys(cols);
    const key = (options.key as readonly string[] | undefined) ?? [];
    checkSinkOptions(SYSTEM, options, [
      ...connectionProblems(options),
      stringOption('table', options.table, true),
      names.length === 0 ? '"columns" must name at least one column' : undefined,
      key.length === 0 ? '"key" must name the conflict target column(s)' : undefined,
      ...key.map((k) => (names.includes(k) ? undefined : `key column "${k}" is not in "columns"`)),
      oneOfOption('onConflict', options.onConflict, ['replace', 'add', 'ignore']),
    ]);
    this.columnNames = names;
    this.getters = names.map((name) => {
      const from = Array.isArray(cols) ? name : (cols as Record<string, string | ((t: Tuple) => unknown)>)[name];
      return typeof from === 'function' ? from : (t: Tuple) => t.getValueByField(from);
    });
  }

  protected createWriter(_conf: Readonly<TopologyConfig>, context: TopologyContext): SinkWriter<Row> {
    return new PgUpsertWriter(this.options, this.columnNames, `squall-${context.getThisComponentId()}-${context.getThisTaskIndex()}`);
  }

  protected toItem(input: Tuple): Row {
    const row = new Array<unknown>(this.getters.length);
    for (let i = 0; i < row.length; i++) {
      const v = this.getters[i](input);
      row[i] = v === undefined ? null : v;
    }
    return row;
  }
}
