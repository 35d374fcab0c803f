/**
 * One line of a worker log (pino JSON, or plain text the worker printed) made readable:
 * `12:34:56.789 INFO  message  key=value ...`. Pure; unit-tested.
 */
import { fmtClock } from './format';

export interface LogLine {
  time: string;
  level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'text';
  msg: string;
  /** The rest of the record's fields, `key=value` with JSON values. */
  extra: string;
}

const LEVELS: Record<number, LogLine['level']> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** Fields every line of a worker carries (bound once by the worker), not worth repeating. */
const QUIET = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'topologyId', 'port', 'v']);

export function formatLogLine(raw: string): LogLine {
  const text = raw.trimEnd();
  if (!text.startsWith('{')) return { time: '', level: 'text', msg: text, extra: '' };
  let rec: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { time: '', level: 'text', msg: text, extra: '' };
    rec = parsed as Record<string, unknown>;
  } catch {
    return { time: '', level: 'text', msg: text, extra: '' };
  }
  const time = typeof rec.time === 'number' ? fmtClock(rec.time) : '';
  const level = typeof rec.level === 'number' ? (LEVELS[rec.level] ?? 'info') : 'info';
  const msg = typeof rec.msg === 'string' ? rec.msg : '';
  const extra = Object.entries(rec)
    .filter(([k]) => !QUIET.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return { time, level, msg, extra };
}
