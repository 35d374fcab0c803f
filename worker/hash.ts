/**
 * A deterministic hash of tuple values, the same in every process and every run (fields and
 * partial-key groupings depend on it): FNV-1a over strings' UTF-16 code units, numbers by value
 * (integers and doubles that are equal hash equally), arrays and plain objects structurally (object
 * keys sorted), finished with murmur3's fmix32.
 */
export function hashValue(v: unknown, h: number): number {
  switch (typeof v) {
    case 'string':
      return hashString(v, h);
    case 'number':
      return hashNumber(v, h);
    case 'boolean':
      return mix(h, v ? 0x51ed27 : 0x2c1b3c6d);
    case 'bigint':
      return hashString(v.toString(), mix(h, 0x7f4a7c15));
    case 'undefined':
      return mix(h, 0x3b1f0a2d);
    case 'object':
      if (v === null) return mix(h, 0x1b873593);
      if (v instanceof Uint8Array) {
        let x = mix(h, 0x68e31da4);
        for (let i = 0; i < v.length; i++) x = Math.imul(x ^ v[i], 0x01000193);
        return x;
      }
      if (Array.isArray(v)) {
        let x = mix(h, 0x5bd1e995 ^ v.length);
        for (let i = 0; i < v.length; i++) x = hashValue(v[i], x);
        return x;
      }
      if (v instanceof Date) return hashNumber(v.getTime(), mix(h, 0x27d4eb2f));
      {
        const keys = Object.keys(v as object).sort();
        let x = mix(h, 0x165667b1 ^ keys.length);
        for (const k of keys) x = hashValue((v as Record<string, unknown>)[k], hashString(k, x));
        return x;
      }
    default:
      return hashString(String(v), h);
  }
}

function hashString(s: string, h: number): number {
  let x = h ^ 0x811c9dc5;
  for (let i = 0; i < s.length; i++) x = Math.imul(x ^ s.charCodeAt(i), 0x01000193);
  return x;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

function hashNumber(n: number, h: number): number {
  if ((n | 0) === n) return mix(h, n);
  f64[0] = n === 0 ? 0 : n; // -0 and 0 are equal, so hash alike
  return mix(mix(h, u32[0]), u32[1]);
}

function mix(h: number, k: number): number {
  return Math.imul((h ^ k) + 0x9e3779b9, 0x85ebca6b) ^ (h >>> 15);
}

export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of the values at `indexes`, as an unsigned 32-bit integer. */
export function hashFields(values: readonly unknown[], indexes: readonly number[], seed = 0): number {
  let h = seed;
  for (let i = 0; i < indexes.length; i++) h = hashValue(values[indexes[i]], h);
  return fmix32(h);
}
