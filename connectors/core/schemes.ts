import type { Scheme, SourceMessage } from './source';

function text(payload: unknown): string {
  if (typeof payload === 'string') return payload;
  if (payload instanceof Uint8Array) return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8');
  throw new Error(`expected text or bytes, got ${payload === null ? 'null' : typeof payload}`);
}

/** Storm's `RawScheme`: the payload as it came, in field `bytes`. */
export function rawScheme(field = 'bytes'): Scheme {
  return { fields: [field], decode: (payload) => [payload] };
}

/** Storm's `StringScheme`: the payload as UTF-8 text, in field `str`. */
export function stringScheme(field = 'str'): Scheme {
  return { fields: [field], decode: (payload) => [text(payload)] };
}

/**
 * A JSON object per message; `fields` are taken from it by name (a missing field is null). A
 * payload that is not JSON, or not an object, cannot be decoded: dead-lettered. With
 * `withOffset`, the message's partition and offset come first (fields `partition`, `offset`).
 */
export function jsonScheme(fields: readonly string[], options: { withOffset?: boolean } = {}): Scheme {
  const all = options.withOffset ? ['partition', 'offset', ...fields] : [...fields];
  return {
    fields: all,
    decode(payload: unknown, message: SourceMessage): unknown[] {
      const obj: unknown = JSON.parse(text(payload));
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw new Error('not a JSON object');
      const values: unknown[] = options.withOffset ? [message.partition, message.offset] : [];
      for (const f of fields) values.push((obj as Record<string, unknown>)[f] ?? null);
      return values;
    },
  };
}
