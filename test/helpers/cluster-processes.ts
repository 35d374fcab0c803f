/**
 * The process table as test/cluster needs it (Linux /proc): which worker processes a supervisor
 * has started, and whether a PID is still a live process (a zombie is not: an orphaned worker
 * whose supervisor was killed may wait for a reaper that this container may not have).
 */
import * as fs from 'node:fs';

/** The worker entry point as it appears in a worker's command line. */
const WORKER_MAIN = /(^|\/)worker\/main\.js$/;

interface ProcStat {
  state: string;
  ppid: number;
}

function readStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return null;
    throw err;
  }
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: rest[0], ppid: Number(rest[1]) };
}

function commandLine(pid: number): string[] {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a.length > 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return [];
    throw err;
  }
}

/** True while `pid` is a process that has not exited (zombies count as exited). */
export function isProcessAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X';
}

/** True when `pid` is a live Squall worker process (`node .../worker/main.js`). */
export function isWorkerProcess(pid: number): boolean {
  return isProcessAlive(pid) && commandLine(pid).some((a) => WORKER_MAIN.test(a));
}

/** Live worker processes whose parent is `ppid`. */
export function workerChildren(ppid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const stat = readStat(pid);
    if (stat && stat.ppid === ppid && stat.state !== 'Z' && commandLine(pid).some((a) => WORKER_MAIN.test(a))) out.push(pid);
  }
  return out;
}
