/** Display helpers for the REST views (Storm UI's formats). */

/** Storm UI's uptime: `45s`, `3m 12s`, `1h 0m 5s`, `2d 1h 0m 5s`. */
export function prettyUptime(secs: number): string {
  let rest = Math.max(0, Math.floor(secs));
  const s = rest % 60;
  rest = Math.floor(rest / 60);
  const m = rest % 60;
  rest = Math.floor(rest / 60);
  const h = rest % 24;
  const d = Math.floor(rest / 24);
  if (d > 0) return `${d}d ${h}h ${m}m ${s}s`;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** Latencies and capacity as Storm UI prints them: three decimals. */
export function fixed3(x: number): string {
  return (Number.isFinite(x) ? x : 0).toFixed(3);
}

const SECRET_KEY = /token|secret|password/i;

/** A copy of a configuration with the values of keys naming a token, secret or password hidden. */
export function redactSecrets(config: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) out[key] = SECRET_KEY.test(key) && value !== null ? '<redacted>' : value;
  return out;
}

/** Whole seconds between two wall-clock times (ms), never negative. */
export function secondsBetween(fromMs: number, toMs: number): number {
  return Math.max(0, Math.floor((toMs - fromMs) / 1000));
}
