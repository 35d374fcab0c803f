import { squallError } from './errors';
import { Fields } from './fields';

/** The ids a tuple carries for the acker: each spout-tuple root it descends from, with its edge id. */
export interface MessageId {
  /** Root ids (spout tuples) this tuple belongs to; empty for an untracked tuple. */
  getAnchors(): number[];
  /** `root:edge` pairs, edges as 16 hex digits. */
  toString(): string;
}

/** A named list of values flowing on a stream (Storm's `Tuple`). Tuples are immutable. */
export interface Tuple {
  getValues(): unknown[];
  getFields(): Fields;
  size(): number;
  contains(field: string): boolean;
  fieldIndex(field: string): number;
  select(fields: Fields): unknown[];
  getValue(i: number): unknown;
  getString(i: number): string;
  getInteger(i: number): number;
  getLong(i: number): number;
  getDouble(i: number): number;
  getBoolean(i: number): boolean;
  getBinary(i: number): Uint8Array;
  getValueByField(field: string): unknown;
  getStringByField(field: string): string;
  getIntegerByField(field: string): number;
  getLongByField(field: string): number;
  getDoubleByField(field: string): number;
  getBooleanByField(field: string): boolean;
  getBinaryByField(field: string): Uint8Array;
  getSourceComponent(): string;
  getSourceTask(): number;
  getSourceStreamId(): string;
  getSourceGlobalStreamId(): { componentId: string; streamId: string };
  getMessageId(): MessageId;
}

function typeError(what: string, i: number, value: unknown): Error {
  return squallError('ERR_VALUE_TYPE', `value ${i} is ${value === null ? 'null' : typeof value}, not ${what}`);
}

function hex64(hi: number, lo: number): string {
  return (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/**
 * The one tuple class the runtime creates. The acker fields are laid out for the hot path: most
 * tuples descend from at most one spout tuple, so the first (root, edge id) pair lives in scalar
 * fields and only tuples with several roots allocate `moreAnchors`. Edge ids are 64-bit, kept as
 * two int32 halves because JS bit operations are 32-bit.
 */
export class TupleImpl implements Tuple {
  /** XOR of the edge ids of every tuple anchored on this one (hi, lo halves). */
  ackHi = 0;
  ackLo = 0;
  /** When an executor started processing this tuple (ms, the worker's clock); for process latency. */
  startMs = 0;
  /** Index of the source stream in the topology's stream table (set by the runtime). */
  streamIndex = -1;
  /** 0 until a bolt acks (1) or fails (2) it; a second ack or fail is ignored. */
  done = 0;

  constructor(
    readonly values: unknown[],
    readonly fields: Fields,
    readonly sourceComponent: string,
    readonly sourceTask: number,
    readonly sourceStreamId: string,
    /** First root id (0 = untracked). */
    public root0: number,
    public edgeHi0: number,
    public edgeLo0: number,
    /** Further [root, edgeHi, edgeLo] triples, flat; null when there are none. */
    public moreAnchors: number[] | null,
  ) {}

  getValues(): unknown[] {
    return this.values;
  }
  getFields(): Fields {
    return this.fields;
  }
  size(): number {
    return this.values.length;
  }
  contains(field: string): boolean {
    return this.fields.contains(field);
  }
  fieldIndex(field: string): number {
    return this.fields.fieldIndex(field);
  }
  select(fields: Fields): unknown[] {
    return this.fields.select(fields, this.values);
  }
  getValue(i: number): unknown {
    return this.values[i];
  }
  getString(i: number): string {
    const v = this.values[i];
    if (typeof v !== 'string') throw typeError('a string', i, v);
    return v;
  }
  getInteger(i: number): number {
    const v = this.values[i];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw typeError('an integer', i, v);
    return v;
  }
  getLong(i: number): number {
    return this.getInteger(i);
  }
  getDouble(i: number): number {
    const v = this.values[i];
    if (typeof v !== 'number') throw typeError('a number', i, v);
    return v;
  }
  getBoolean(i: number): boolean {
    const v = this.values[i];
    if (typeof v !== 'boolean') throw typeError('a boolean', i, v);
    return v;
  }
  getBinary(i: number): Uint8Array {
    const v = this.values[i];
    if (!(v instanceof Uint8Array)) throw typeError('binary', i, v);
    return v;
  }
  getValueByField(field: string): unknown {
    return this.values[this.fields.fieldIndex(field)];
  }
  getStringByField(field: string): string {
    return this.getString(this.fields.fieldIndex(field));
  }
  getIntegerByField(field: string): number {
    return this.getInteger(this.fields.fieldIndex(field));
  }
  getLongByField(field: string): number {
    return this.getLong(this.fields.fieldIndex(field));
  }
  getDoubleByField(field: string): number {
    return this.getDouble(this.fields.fieldIndex(field));
  }
  getBooleanByField(field: string): boolean {
    return this.getBoolean(this.fields.fieldIndex(field));
  }
  getBinaryByField(field: string): Uint8Array {
    return this.getBinary(this.fields.fieldIndex(field));
  }
  getSourceComponent(): string {
    return this.sourceComponent;
  }
  getSourceTask(): number {
    return this.sourceTask;
  }
  getSourceStreamId(): string {
    return this.sourceStreamId;
  }
  getSourceGlobalStreamId(): { componentId: string; streamId: string } {
    return { componentId: this.sourceComponent, streamId: this.sourceStreamId };
  }
  getMessageId(): MessageId {
    const pairs: Array<[number, string]> = [];
    if (this.root0 !== 0) pairs.push([this.root0, hex64(this.edgeHi0, this.edgeLo0)]);
    const more = this.moreAnchors;
    if (more) for (let i = 0; i < more.length; i += 3) pairs.push([more[i], hex64(more[i + 1], more[i + 2])]);
    return {
      getAnchors: () => pairs.map((p) => p[0]),
      toString: () => `{${pairs.map(([r, e]) => `${r}:${e}`).join(', ')}}`,
    };
  }
  toString(): string {
    return `source: ${this.sourceComponent}:${this.sourceTask}, stream: ${this.sourceStreamId}, id: ${this.getMessageId()}, ${JSON.stringify(this.values)}`;
  }
}
