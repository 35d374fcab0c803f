/**
 * A Map whose keys compare by value: primitives as a Map compares them, arrays and plain objects
 * by their contents (so `['a', 1]` finds what `['a', 1]` stored), as they do once encoded in a
 * backend. Primitive keys (the common case: words, ids) cost one Map operation.
 */
export class KeyMap<V> {
  private readonly prim = new Map<unknown, V>();
  private readonly obj = new Map<string, { key: unknown; value: V }>();

  get size(): number {
    return this.prim.size + this.obj.size;
  }

  get(key: unknown): V | undefined {
    return typeof key === 'object' && key !== null ? this.obj.get(canonical(key))?.value : this.prim.get(key);
  }

  has(key: unknown): boolean {
    return typeof key === 'object' && key !== null ? this.obj.has(canonical(key)) : this.prim.has(key);
  }

  set(key: unknown, value: V): void {
    if (typeof key === 'object' && key !== null) this.obj.set(canonical(key), { key, value });
    else this.prim.set(key, value);
  }

  delete(key: unknown): boolean {
    return typeof key === 'object' && key !== null ? this.obj.delete(canonical(key)) : this.prim.delete(key);
  }

  clear(): void {
    this.prim.clear();
    this.obj.clear();
  }

  *entries(): IterableIterator<[unknown, V]> {
    yield* this.prim.entries();
    for (const e of this.obj.values()) yield [e.key, e.value];
  }

  *keys(): IterableIterator<unknown> {
    yield* this.prim.keys();
    for (const e of this.obj.values()) yield e.key;
  }
}

/** A string equal for equal contents: object keys sorted, each value tagged with its type. */
export function canonical(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return `n${v === 0 ? 0 : v}`; // -0 and 0 are one key, as in a Map
    case 'bigint':
      return `i${v}`;
    case 'boolean':
      return v ? 't' : 'f';
    case 'undefined':
      return 'u';
    case 'object': {
      if (v === null) return 'z';
      if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
      if (v instanceof Uint8Array) return `b${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}`;
      if (v instanceof Date) return `d${v.getTime()}`;
      const o = v as Record<string, unknown>;
      return `{${Object.keys(o)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
        .join(',')}}`;
    }
    default:
      return `?${String(v)}`;
  }
}
