import type { Tuple } from '../../topology-api';

/** A tuple's fields as a plain object: the default message body of the broker sinks (as JSON). */
export function tupleObject(t: Tuple): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fields = t.getFields().toList();
  const values = t.getValues();
  for (let i = 0; i < fields.length; i++) out[fields[i]] = values[i];
  return out;
}
