import { squallError, type TopologyConfig } from '../topology-api';

/**
 * Parses repeated `-c key=value` flags (Storm's CLI). Values are read as JSON when they parse
 * (`2`, `true`, `null`, `[6700,6701]`, `"text"`), otherwise kept as strings.
 */
export function parseConfigArgs(args: readonly string[] | string | undefined): TopologyConfig {
  const list = args === undefined ? [] : Array.isArray(args) ? args : [args as string];
  const out: TopologyConfig = {};
  for (const arg of list) {
    const eq = arg.indexOf('=');
    if (eq <= 0) throw squallError('ERR_CONFIG_INVALID', `-c expects key=value, got ${JSON.stringify(arg)}`);
    const key = arg.slice(0, eq).trim();
    const raw = arg.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      value = raw; // not JSON: a plain string value
    }
    out[key] = value;
  }
  return out;
}
