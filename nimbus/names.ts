/** Topology names and ids (Storm's rules and id shape). */
import { squallError } from '../common/errors';

/** Path separators and Storm's forbidden characters, plus control characters ZooKeeper rejects. */
const NAME_FORBIDDEN = /[/.:\\\u0000-\u001f\u007f]/;
export const TOPOLOGY_NAME_MAX_CHARS = 200;

/** Storm's rule: a non-empty name without / . : \ (ERR_TOPOLOGY_INVALID otherwise). */
export function checkTopologyName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > TOPOLOGY_NAME_MAX_CHARS || NAME_FORBIDDEN.test(name)) {
    throw squallError(
      'ERR_TOPOLOGY_INVALID',
      `topology name ${JSON.stringify(name)} must be 1 to ${TOPOLOGY_NAME_MAX_CHARS} characters and contain none of / . : \\ or control characters`,
    );
  }
  return name;
}

/** The counter of an id `<name>-<counter>-<launchSecs>`, or null for another shape. */
export function idCounter(id: string): number | null {
  const m = /-(\d+)-\d+$/.exec(id);
  return m ? Number(m[1]) : null;
}

/** Storm's id `<name>-<counter>-<launchSecs>`, with `counter` above every counter in use. */
export function newTopologyId(name: string, existingIds: Iterable<string>, counterFloor: number, launchSecs: number): { id: string; counter: number } {
  const ids = new Set(existingIds);
  let counter = counterFloor;
  for (const id of ids) counter = Math.max(counter, idCounter(id) ?? 0);
  for (;;) {
    counter++;
    const id = `${name}-${counter}-${launchSecs}`;
    if (!ids.has(id)) return { id, counter };
  }
}
