import type { WorkerToSupervisor } from '../common/protocol/ipc';

/** Longest error text kept: ten of them must fit a cluster-state node with room to spare. */
export const ERROR_TEXT_CHARS_MAX = 8192;

/**
 * Checks the shape of a message from a worker process before the supervisor acts on it: the
 * worker runs user code, so a malformed message is logged and dropped, never trusted. Returns
 * null for anything that is not one of the `WorkerToSupervisor` messages.
 */
export function parseWorkerMessage(raw: unknown): WorkerToSupervisor | null {
  if (!isObject(raw)) return null;
  switch (raw.type) {
    case 'ready':
      return isInt(raw.pid) ? { type: 'ready', pid: raw.pid } : null;
    case 'heartbeat': {
      const beat = raw.beat;
      if (!isObject(beat) || !isNum(beat.timeMs) || !isNum(beat.uptimeSecs) || !isNum(beat.rssBytes) || !Array.isArray(beat.executors)) return null;
      const incarnation = typeof beat.incarnation === 'string' && beat.incarnation.length > 0 && beat.incarnation.length <= 64 ? beat.incarnation : '';
      return { type: 'heartbeat', beat: { incarnation, timeMs: beat.timeMs, uptimeSecs: beat.uptimeSecs, rssBytes: beat.rssBytes, executors: beat.executors.filter(isObject) as never } };
    }
    case 'error': {
      const error = raw.error;
      if (typeof raw.component !== 'string' || raw.component === '' || !isObject(error) || typeof error.error !== 'string') return null;
      return {
        type: 'error',
        component: raw.component,
        error: {
          error: truncate(error.error),
          errorTimeMs: isNum(error.errorTimeMs) ? error.errorTimeMs : 0,
          host: typeof error.host === 'string' ? error.host : '',
          port: isInt(error.port) ? error.port : 0,
          ...(isInt(error.task) ? { task: error.task } : {}),
        },
      };
    }
    case 'fatal':
      return typeof raw.code === 'string' && typeof raw.message === 'string' ? { type: 'fatal', code: truncate(raw.code, 100), message: truncate(raw.message) } : null;
    default:
      return null;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function isInt(v: unknown): v is number {
  return Number.isInteger(v);
}

function truncate(text: string, max = ERROR_TEXT_CHARS_MAX): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
