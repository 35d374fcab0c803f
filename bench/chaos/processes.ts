/**
 * The processes of the chaos run: daemons started from bin/squall.js (logs to files), the worker
 * processes each supervisor has forked (read from /proc), and their memory (Linux /proc).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The package root, whether this runs from dist/bench/chaos or from bench/chaos. */
const UP2 = path.resolve(__dirname, '..', '..');
export const ROOT = path.basename(UP2) === 'dist' ? path.dirname(UP2) : UP2;
export const SQUALL_BIN = path.join(ROOT, 'bin', 'squall.js');

/** One `squall nimbus` or `squall supervisor` process. */
export class Daemon {
  readonly child: ChildProcess;
  readonly exited: Promise<void>;

  constructor(
    readonly label: string,
    args: string[],
    logFile: string,
  ) {
    const fd = fs.openSync(logFile, 'a');
    this.child = spawn(process.execPath, [SQUALL_BIN, ...args], { cwd: ROOT, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.once('error', () => resolve());
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  kill9(): void {
    if (this.running) this.child.kill('SIGKILL');
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves on exit. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const forced = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(forced);
  }
}

interface ProcStat {
  state: string;
  ppid: number;
}

function readStat(pid: number): ProcStat | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], ppid: Number(rest[1]) };
  } catch {
    return null; // gone
  }
}

/** True while `pid` runs (a zombie has exited). */
export function isAlive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X';
}

/** Live `worker/main.js` processes whose parent is `ppid`. */
export function workerChildren(ppid: number): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const stat = readStat(pid);
    if (!stat || stat.ppid !== ppid || stat.state === 'Z') continue;
    let cmdline = '';
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    if (/(^|\/)worker\/main\.js(\0|$)/.test(cmdline)) out.push(pid);
  }
  return out;
}

/** Peak resident memory so far (VmHWM) of `pid` in bytes, or NaN once it has exited. */
export function peakRssBytes(pid: number): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Peak RSS of every process it is shown, by role: sampled (VmHWM is the kernel's own peak, so
 * samples only need to be taken before a process exits; a worker killed between two samples keeps
 * the peak of its last one).
 */
export class RssTracker {
  private readonly peaks = new Map<number, { role: string; bytes: number }>();

  sample(pid: number, role: string): void {
    const bytes = peakRssBytes(pid);
    if (!Number.isFinite(bytes)) return;
    const seen = this.peaks.get(pid);
    if (!seen || bytes > seen.bytes) this.peaks.set(pid, { role, bytes });
  }

  /** Per role: processes seen and the highest and median peak. */
  byRole(): Array<{ role: string; processes: number; maxBytes: number; medianBytes: number }> {
    const roles = new Map<string, number[]>();
    for (const { role, bytes } of this.peaks.values()) {
      const list = roles.get(role) ?? [];
      list.push(bytes);
      roles.set(role, list);
    }
    return [...roles.entries()]
      .map(([role, list]) => {
        const sorted = [...list].sort((a, b) => a - b);
        return { role, processes: list.length, maxBytes: sorted[sorted.length - 1], medianBytes: sorted[Math.floor((sorted.length - 1) / 2)] };
      })
      .sort((a, b) => a.role.localeCompare(b.role));
  }
}

/** Runs `node bin/squall.js <args>` to completion (bounded); rejects on a non-zero exit. */
export function squall(args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SQUALL_BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`squall ${args.join(' ')} exited ${code}: ${out}`));
    });
  });
}
