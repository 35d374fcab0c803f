/**
 * State keys and values as bytes: msgpack, set up as on the wire (plain arrays and objects, no
 * records: a reader elsewhere has no shared structures). Keys compare by these bytes in a backend,
 * so one key always encodes to the same bytes: numbers by value, strings as UTF-8.
 */
import { Packr, Unpackr } from 'msgpackr';

const OPTIONS = { useRecords: false, mapsAsObjects: true } as const;

export class StateCodec {
  private readonly packr = new Packr(OPTIONS);
  private readonly unpackr = new Unpackr(OPTIONS);

  /** A fresh buffer (msgpackr's result is a slice later packs do not overwrite). */
  encode(value: unknown): Uint8Array {
    return this.packr.pack(value);
  }

  /** A key's bytes: object keys with their properties sorted, so equal keys are equal bytes. */
  encodeKey(key: unknown): Uint8Array {
    return this.packr.pack(typeof key === 'object' && key !== null ? sortedKeys(key) : key);
  }

  decode(bytes: Uint8Array): unknown {
    return this.unpackr.unpack(bytes);
  }
}

function sortedKeys(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array || v instanceof Date) return v;
  if (Array.isArray(v)) return v.map(sortedKeys);
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) out[k] = sortedKeys(o[k]);
  return out;
}
