/** CPU time and memory of a process from /proc (Linux), read from outside the process. */
import * as fs from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux Node supports. */
const TICKS_PER_SEC = 100;

/** User + system CPU time of `pid` in ms, or NaN when it cannot be read. */
export function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the command name (field 2) may hold spaces: fields are counted after its closing paren
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_SEC;
  } catch {
    return NaN;
  }
}

/** Current (VmRSS) and peak (VmHWM) resident memory of `pid` in bytes; NaN when unreadable. */
export function memory(pid: number): { rssBytes: number; peakBytes: number } {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) * 1024 : NaN;
    };
    return { rssBytes: kb('VmRSS'), peakBytes: kb('VmHWM') };
  } catch {
    return { rssBytes: NaN, peakBytes: NaN };
  }
}

/** Busy and total CPU time of the whole machine (all cores), in ticks, from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  try {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = v[3] + (v[4] || 0); // idle + iowait
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return { busy: NaN, total: NaN };
  }
}

/**
 * CPU use of several processes over a window, as percent of one core each, and how busy the rest
 * of the machine was meanwhile (other engineers' test runs may share it): percent of one core
 * used by every process other than these and this one.
 */
export class CpuMeter {
  private readonly ours: number[];
  private readonly startCpu: number[];
  private readonly startOurs: number;
  private readonly startMs: number;
  private readonly startMachine: { busy: number; total: number };
  constructor(private readonly pids: readonly number[]) {
    this.ours = [...new Set([...pids, process.pid])];
    this.startCpu = pids.map(cpuMs);
    this.startOurs = this.oursMs();
    this.startMs = performance.now();
    this.startMachine = machineTicks();
  }
  private oursMs(): number {
    let ms = 0;
    for (const p of this.ours) ms += cpuMs(p);
    return ms;
  }
  percents(): number[] {
    const wall = performance.now() - this.startMs;
    return this.pids.map((pid, i) => ((cpuMs(pid) - this.startCpu[i]) / wall) * 100);
  }
  otherPercent(): number {
    const wall = performance.now() - this.startMs;
    const m = machineTicks();
    const machineMs = ((m.busy - this.startMachine.busy) * 1000) / TICKS_PER_SEC;
    return Math.max(0, ((machineMs - (this.oursMs() - this.startOurs)) / wall) * 100);
  }
}
