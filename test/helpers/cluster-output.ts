/**
 * Reads what the test/fixtures/cluster components wrote (see components.ts there for the files).
 * Only complete lines count: a line being written (or cut by a kill -9) is not read.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface SinkRecord {
  task: number;
  pid: number;
  values: unknown[];
  source: string;
  stream: string;
}

export interface SinkMeta {
  component: string;
  task: number;
  tasks: number[];
  pid: number;
  port: number;
}

export interface SpoutEvent {
  event: 'open' | 'activate' | 'deactivate' | 'fail';
  pid: number;
  id?: number;
}

export function readJsonLines<T>(file: string): T[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const complete = text.slice(0, text.lastIndexOf('\n') + 1);
  return complete
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Files `<component>-<task><suffix>` in `dir`, by task. */
function filesOf(dir: string, component: string, suffix: string): Map<number, string> {
  const pattern = new RegExp(`^${escape(component)}-(\\d+)${escape(suffix)}$`);
  const out = new Map<number, string>();
  if (!fs.existsSync(dir)) return out;
  for (const name of fs.readdirSync(dir)) {
    const m = pattern.exec(name);
    if (m) out.set(Number(m[1]), path.join(dir, name));
  }
  return out;
}

/** Every tuple the tasks of a recording component got. */
export function sinkRecords<T = SinkRecord>(dir: string, component: string): T[] {
  return [...filesOf(dir, component, '.jsonl').values()].flatMap((f) => readJsonLines<T>(f));
}

/** Each task's `meta.json` of a recording component (its task id, all its component's tasks, its process). */
export function sinkMeta(dir: string, component: string): SinkMeta[] {
  return [...filesOf(dir, component, '.meta.json').values()].map((f) => JSON.parse(fs.readFileSync(f, 'utf8')) as SinkMeta);
}

/** Emitted message ids of a spout component, with repeats (replays), over all its tasks. */
export function spoutEmitted(dir: string, component: string): number[] {
  return [...filesOf(dir, component, '.emitted.jsonl').values()].flatMap((f) => readJsonLines<{ id: number }>(f).map((r) => r.id));
}

/** Acked message ids of a spout component, with repeats, over all its tasks. */
export function spoutAcked(dir: string, component: string): number[] {
  return [...filesOf(dir, component, '.acked.jsonl').values()].flatMap((f) => readJsonLines<{ id: number }>(f).map((r) => r.id));
}

/** Events of each spout task, by task id. */
export function spoutEvents(dir: string, component: string): Map<number, SpoutEvent[]> {
  const out = new Map<number, SpoutEvent[]>();
  for (const [task, f] of filesOf(dir, component, '.events.jsonl')) out.set(task, readJsonLines<SpoutEvent>(f));
  return out;
}

/** Count of each value of `key(item)`. */
export function countBy<T, K>(items: readonly T[], key: (item: T) => K): Map<K, number> {
  const out = new Map<K, number>();
  for (const item of items) {
    const k = key(item);
    out.set(k, (out.get(k) ?? 0) + 1);
  }
  return out;
}

/** The set of `value(item)` for each `key(item)`. */
export function groupSets<T, K, V>(items: readonly T[], key: (item: T) => K, value: (item: T) => V): Map<K, Set<V>> {
  const out = new Map<K, Set<V>>();
  for (const item of items) {
    const k = key(item);
    let set = out.get(k);
    if (!set) out.set(k, (set = new Set()));
    set.add(value(item));
  }
  return out;
}
