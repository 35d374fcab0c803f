/**
 * How the UI prints figures (pure; unit-tested in test/unit/ui). Counts are grouped by thousands,
 * latencies are Storm UI's milliseconds with three decimals, durations Storm's `1h 2m 3s`.
 */

/** `12,345`; `-` for a missing value. */
export function fmtInt(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  return Math.round(n).toLocaleString('en-US');
}

/** A latency in ms as Storm UI prints it (`3.200`); REST sends strings or numbers. */
export function fmtMs(v: string | number | null | undefined): string {
  if (v === null || v === undefined || v === '') return '-';
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n.toFixed(3) : '-';
}

/** Capacity (fraction of time busy) with three decimals. */
export function fmtCapacity(v: string | number | null | undefined): string {
  return fmtMs(v);
}

/** `70.0 MiB`. */
export function fmtBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** Storm's uptime format: `1d 2h 3m 4s`, leading zero units left out. */
export function fmtDuration(totalSecs: number | null | undefined): string {
  if (totalSecs === null || totalSecs === undefined || !Number.isFinite(totalSecs) || totalSecs < 0) return '-';
  let s = Math.floor(totalSecs);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d ${h}h ${m}m ${s}s`;
  if (h > 0) return `${h}h ${m}m ${s}s`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `2025-01-15 12:34:56` in the browser's time zone; `-` for none. */
export function fmtTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `12:34:56.789` (log lines). */
export function fmtClock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** A rate per second, short: `0`, `8.5`, `1,234`, `12.3k`, `4.56M`. */
export function fmtRate(perSec: number | null | undefined): string {
  if (perSec === null || perSec === undefined || !Number.isFinite(perSec)) return '-';
  const v = Math.max(0, perSec);
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (v >= 10) return fmtInt(v);
  return v === 0 ? '0' : v.toFixed(1);
}

/** Parses what REST sends for a decimal (strings like `"0.120"` or numbers); NaN when absent. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return Number.NaN;
}

export type CapacityLevel = 'idle' | 'ok' | 'warm' | 'hot';

/**
 * Storm UI's capacity colouring: a bolt near 1 is busy all the time (the bottleneck). Thresholds:
 * < 0.05 idle, < 0.5 ok, < 0.8 warm, else hot.
 */
export function capacityLevel(capacity: number): CapacityLevel {
  if (!Number.isFinite(capacity) || capacity < 0.05) return 'idle';
  if (capacity < 0.5) return 'ok';
  if (capacity < 0.8) return 'warm';
  return 'hot';
}

/** The first line of an error (tables show it; the full text is in the cell's title). */
export function firstLine(s: string, charsMax = 160): string {
  const line = s.split('\n', 1)[0];
  return line.length > charsMax ? `${line.slice(0, charsMax)}…` : line;
}
