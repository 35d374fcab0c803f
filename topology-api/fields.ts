import { squallError } from './errors';

/** An ordered list of field names with O(1) lookup by name (Storm's `Fields`). */
export class Fields implements Iterable<string> {
  private readonly names: readonly string[];
  private readonly index = new Map<string, number>();

  constructor(...names: string[] | [readonly string[]]) {
    const list: readonly string[] = names.length === 1 && Array.isArray(names[0]) ? (names[0] as readonly string[]) : (names as string[]);
    this.names = Object.freeze([...list]);
    this.names.forEach((name, i) => {
      if (!this.index.has(name)) this.index.set(name, i);
    });
  }

  size(): number {
    return this.names.length;
  }

  get(i: number): string {
    return this.names[i];
  }

  contains(name: string): boolean {
    return this.index.has(name);
  }

  /** The position of `name`; throws ERR_FIELD_NOT_FOUND when it is not one of these fields. */
  fieldIndex(name: string): number {
    const i = this.index.get(name);
    if (i === undefined) throw squallError('ERR_FIELD_NOT_FOUND', `"${name}" is not one of [${this.names.join(', ')}]`);
    return i;
  }

  /** The values of `selector`'s fields, picked out of `values` laid out as these fields. */
  select(selector: Fields, values: readonly unknown[]): unknown[] {
    const out = new Array<unknown>(selector.size());
    for (let i = 0; i < out.length; i++) out[i] = values[this.fieldIndex(selector.get(i))];
    return out;
  }

  toList(): string[] {
    return [...this.names];
  }

  [Symbol.iterator](): Iterator<string> {
    return this.names[Symbol.iterator]();
  }

  toString(): string {
    return `[${this.names.join(', ')}]`;
  }

  toJSON(): string[] {
    return this.toList();
  }
}

export function toFields(fields: Fields | readonly string[]): Fields {
  return fields instanceof Fields ? fields : new Fields(fields);
}
