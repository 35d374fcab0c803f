/**
 * `squall logs <topology> [--component c] [--follow]`: prints the tail of the log of every worker
 * of a topology (or of those running component c), read through Nimbus from each supervisor's log
 * server; `--follow` keeps printing new lines, across rotations; `--search` prints matching lines.
 */
import type { Argv } from 'yargs';
import type { LogPage, TopologyPage, WorkerEntry } from '../../common/protocol/rest';
import { errorCode, squallError } from '../../topology-api';
import { formatLogLine } from '../../ui/lib/log-format';
import type { CliContext } from '../context';
import type { NimbusClient } from '../nimbus-client';
import { clientFor, withNimbusOptions } from './cluster';

interface LogsArgs {
  name: string;
  component?: string;
  follow: boolean;
  lines: number;
  json: boolean;
  search?: string;
  interval: number;
  duration?: number;
  nimbus?: string;
  token?: string;
  config?: string;
  c?: string[];
}

/** Bytes asked for per page when reading back from the end. */
const PAGE_BYTES = 64 << 10;
/** Pages read back at the most for `--lines`. */
const TAIL_PAGES_MAX = 16;

/** The workers to read: all, or those running `component`. */
export function workersFor(page: TopologyPage, component?: string): WorkerEntry[] {
  if (component === undefined) return page.workers;
  const known = [...page.spouts.map((s) => s.spoutId), ...page.bolts.map((b) => b.boltId), '__acker'];
  if (!known.includes(component)) throw squallError('ERR_COMPONENT_NOT_FOUND', `topology ${page.name} has no component ${JSON.stringify(component)}`);
  return page.workers.filter((w) => (w.componentNumTasks[component] ?? 0) > 0);
}

/** One log line as printed: formatted (`12:34:56.789 INFO  msg k=v`) or raw JSON. */
export function printable(line: string, json: boolean): string {
  if (json) return line;
  const l = formatLogLine(line);
  if (l.level === 'text') return l.msg;
  return [l.time, l.level.toUpperCase().padEnd(5), l.msg, l.extra].filter((x) => x !== '').join(' ');
}

function linesOf(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

/** The last `count` lines of a worker's log, and where reading on starts. */
async function tail(client: NimbusClient, topology: string, w: WorkerEntry, count: number): Promise<{ lines: string[]; page: LogPage }> {
  let page = await client.workerLog(topology, w.host, w.port, { length: PAGE_BYTES });
  const last = page;
  let lines = linesOf(page.text);
  for (let n = 1; lines.length < count && page.start > 0 && n < TAIL_PAGES_MAX; n++) {
    page = await client.workerLog(topology, w.host, w.port, { file: page.file, start: Math.max(0, page.start - PAGE_BYTES), length: page.start - Math.max(0, page.start - PAGE_BYTES) });
    lines = [...linesOf(page.text), ...lines];
  }
  return { lines: lines.slice(-count), page: last };
}

/** Follows one worker: new lines since `from`; on rotation, the rest of the old file first. */
export class Follower {
  constructor(
    private readonly client: NimbusClient,
    private readonly topology: string,
    readonly worker: WorkerEntry,
    private at: { fileId: string; end: number },
  ) {}

  /**
   * New lines since the last call. Rotation renames the current file before it creates the next,
   * so a read can find no current file for a moment (ERR_LOG_NOT_FOUND): then this returns what it
   * had printed up to its position and reads again next time, from the same position.
   */
  async next(): Promise<string[]> {
    const out: string[] = [];
    try {
      await this.read(out);
    } catch (err) {
      if (errorCode(err) !== 'ERR_LOG_NOT_FOUND') throw err;
    }
    return out;
  }

  /** Appends to `out` only lines whose end is recorded in `this.at` (so a failed read repeats none). */
  private async read(out: string[]): Promise<void> {
    const { client, topology, worker } = this;
    const carried: string[] = [];
    let page = await client.workerLog(topology, worker.host, worker.port, { start: this.at.end, length: PAGE_BYTES });
    if (page.fileId !== this.at.fileId) {
      const rotated = page.files.find((f) => f.name === 'worker.log.1');
      if (rotated) {
        const old = await client.workerLog(topology, worker.host, worker.port, { file: rotated.name, start: 0, length: 1 });
        if (old.fileId === this.at.fileId) {
          for (let start = this.at.end; start < old.size; ) {
            const p = await client.workerLog(topology, worker.host, worker.port, { file: rotated.name, start, length: PAGE_BYTES });
            carried.push(...linesOf(p.text));
            if (p.end <= start) break;
            start = p.end;
          }
        }
      }
      page = await client.workerLog(topology, worker.host, worker.port, { start: 0, length: PAGE_BYTES });
    }
    out.push(...carried);
    for (;;) {
      out.push(...linesOf(page.text));
      this.at = { fileId: page.fileId, end: page.end };
      if (page.end >= page.size || page.text === '') break;
      page = await client.workerLog(topology, worker.host, worker.port, { start: page.end, length: PAGE_BYTES });
    }
  }
}

export function logsCommand(ctx: CliContext) {
  return {
    command: 'logs <name>',
    describe: "Print a topology's worker logs (the tail; --follow for new lines)",
    builder: (y: Argv) =>
      withNimbusOptions(y)
        .positional('name', { type: 'string', demandOption: true, describe: 'Topology name or id' })
        .option('component', { type: 'string', describe: 'Only the workers running this component' })
        .option('follow', { alias: 'f', type: 'boolean', default: false, describe: 'Keep printing new lines (Ctrl-C stops)' })
        .option('lines', { alias: 'n', type: 'number', default: 50, describe: 'Lines of each worker to print first' })
        .option('search', { type: 'string', describe: 'Print the lines containing this text instead (case-insensitive)' })
        .option('json', { type: 'boolean', default: false, describe: 'Print the JSON lines as they are' })
        .option('interval', { alias: 'i', type: 'number', default: 1, describe: 'Seconds between reads with --follow' })
        .option('duration', { type: 'number', describe: 'Stop following after this many seconds' }),
    handler: (argv: LogsArgs) =>
      ctx.run(async () => {
        const client = clientFor(argv);
        const page = await client.topology(argv.name);
        const workers = workersFor(page, argv.component);
        if (workers.length === 0) throw squallError('ERR_LOG_NOT_FOUND', `no worker of ${page.name} runs${argv.component ? ` ${argv.component}` : ''} now`);
        const prefix = (w: WorkerEntry): string => (workers.length > 1 ? `[${w.host}:${w.port}] ` : '');
        if (argv.search !== undefined) {
          for (const w of workers) {
            const { files } = await client.workerLog(page.id, w.host, w.port, { length: 1 });
            // oldest file first, so matches print in time order
            for (const file of [...files].reverse()) {
              for (let start: number | null = 0; start !== null; ) {
                const found = await client.searchWorkerLog(page.id, w.host, w.port, { q: argv.search, file: file.name, start, ignoreCase: true, limit: 1000 });
                for (const m of found.matches) ctx.out(prefix(w) + printable(m.line, argv.json));
                start = found.nextStart;
              }
            }
          }
          return;
        }
        const followers: Follower[] = [];
        for (const w of workers) {
          const t = await tail(client, page.id, w, argv.lines);
          for (const line of t.lines) ctx.out(prefix(w) + printable(line, argv.json));
          followers.push(new Follower(client, page.id, w, { fileId: t.page.fileId, end: t.page.end }));
        }
        if (!argv.follow) return;
        let stop = false;
        ctx.onInterrupt(() => (stop = true));
        const started = performance.now();
        while (!stop && (argv.duration === undefined || performance.now() - started < argv.duration * 1000)) {
          await new Promise((r) => setTimeout(r, argv.interval * 1000));
          for (const f of followers) for (const line of await f.next()) ctx.out(prefix(f.worker) + printable(line, argv.json));
        }
      }),
  };
}
