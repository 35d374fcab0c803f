/**
 * Where workers' log files live and how they are named (Storm's `workers-artifacts/<topology>/<port>`):
 * `<storm.local.dir>/logs/<topologyId>/<port>/worker.log`, rotated to `worker.log.1` (newest) ...
 * `worker.log.<files - 1>` (oldest). Every path here is built from a checked topology id, a port
 * number and a name from this fixed set, never from a string a client sent as a path.
 */
import * as path from 'node:path';
import { squallError } from '../common/errors';

export const LOG_FILE = 'worker.log';
/** Log files a worker may have at the most (the current one and rotated ones). */
export const LOG_FILES_LIMIT = 100;
const ROTATED = /^worker\.log\.([1-9]\d?)$/;

/**
 * True for a topology id Nimbus can have made (`<name>-<n>-<secs>`: a name has no `/ . : \` nor
 * control characters) and that is nothing but one directory name.
 */
export function isTopologyIdSafe(id: string): boolean {
  return id.length > 0 && id.length <= 256 && !/[/\\.:\x00-\x1f\x7f]/.test(id);
}

/** `worker.log` or `worker.log.<n>` with 1 <= n < filesMax. */
export function isLogFileName(name: string, filesMax: number): boolean {
  if (name === LOG_FILE) return true;
  const m = ROTATED.exec(name);
  return m !== null && Number(m[1]) < filesMax;
}

/** The rotated name of generation `n` (0: the current file). */
export function logFileName(n: number): string {
  return n === 0 ? LOG_FILE : `${LOG_FILE}.${n}`;
}

/** The directory of one worker slot's logs; ERR_LOG_NOT_FOUND for an id or port that cannot be one. */
export function workerLogDir(logsRoot: string, topologyId: string, port: number): string {
  if (!isTopologyIdSafe(topologyId)) throw squallError('ERR_LOG_NOT_FOUND', `no log for topology ${JSON.stringify(topologyId.slice(0, 80))}`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw squallError('ERR_LOG_NOT_FOUND', `no log for port ${port}`);
  return path.join(logsRoot, topologyId, String(port));
}

/** The logs root under a supervisor's data directory. */
export function logsRootOf(localDir: string): string {
  return path.resolve(localDir, 'logs');
}
