/**
 * The WorkerLauncher seam (Storm's `ContainerLauncher`): the supervisor starts, messages and kills
 * workers only through it. `ProcessLauncher` forks `worker/main.js` by file path (the supervisor
 * never imports worker code); local mode supplies an in-process launcher against the same
 * interface.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { SystemClock, type Clock, type TimerHandle } from '../common/clock';
import { describeError } from '../common/errors';
import { silentLogger, type Logger } from '../common/logging';
import type { SupervisorToWorker, WorkerStartSpec, WorkerToSupervisor } from '../common/protocol/ipc';
import { splitChildopts } from './childopts';
import { LineForwarder, type LineSink } from './line-forwarder';
import { workerLogDir } from './log-files';
import { parseWorkerMessage } from './worker-messages';
import { WorkerLogFile } from './worker-log';

export interface WorkerEvents {
  onMessage(msg: WorkerToSupervisor): void;
  /** Exactly once per launched worker, after its last message; nothing follows it. */
  onExit(code: number | null, signal: string | null): void;
}

export interface WorkerHandle {
  /** OS process id (null when not a process, or when it could not be spawned). */
  readonly pid: number | null;
  /** Best effort: a message to a worker that is gone is dropped (and logged). */
  send(msg: SupervisorToWorker): void;
  /** Best effort: signalling a worker that is gone does nothing. */
  kill(signal: 'SIGTERM' | 'SIGKILL'): void;
}

export interface WorkerLauncher {
  /**
   * Starts a worker and hands it `{type:'start', spec}` first. May throw a coded error when
   * nothing could be started (then no event follows); events may arrive before it returns.
   */
  launch(spec: WorkerStartSpec, events: WorkerEvents): WorkerHandle;
}

export interface ProcessLauncherOptions {
  /** The worker entry point; default `../worker/main.js` next to this compiled file. */
  workerMainPath?: string;
  /**
   * 'inherit': the worker writes to the supervisor's stdout/stderr; 'log': each line goes to the
   * logger; 'file': each line goes to the worker's log file under `logs.root` (supervisor/log-files.ts).
   */
  output?: 'inherit' | 'log' | 'file';
  /** Where and how large worker log files are ('file' output). */
  logs?: { root: string; fileBytesMax: number; filesMax: number };
  /** Environment of worker processes (default: the supervisor's). */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  clock?: Clock;
}

/**
 * Bound on waiting, after a process exits, for its IPC channel to close (every message it sent
 * is delivered by then). Normally milliseconds; the bound only guards against a channel that
 * some descendant keeps open.
 */
const EXIT_DRAIN_MS = 5000;
/** Malformed messages logged per worker; the rest are only counted. */
const BAD_MESSAGES_LOGGED_MAX = 5;

export function defaultWorkerMainPath(): string {
  return path.resolve(__dirname, '..', 'worker', 'main.js');
}

export class ProcessLauncher implements WorkerLauncher {
  readonly workerMainPath: string;
  private readonly output: 'inherit' | 'log' | 'file';
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(private readonly options: ProcessLauncherOptions = {}) {
    this.workerMainPath = options.workerMainPath ?? defaultWorkerMainPath();
    this.output = options.output ?? 'inherit';
    if (this.output === 'file' && !options.logs) throw new TypeError("ProcessLauncher: output 'file' needs logs");
    this.logger = options.logger ?? silentLogger();
    this.clock = options.clock ?? new SystemClock();
  }

  launch(spec: WorkerStartSpec, events: WorkerEvents): WorkerHandle {
    const execArgv = splitChildopts(spec.config['topology.worker.childopts'] as string | null | undefined);
    // checked before forking: an id that cannot name a log directory fails the launch, not the log
    const logDir = this.output === 'file' ? workerLogDir(this.options.logs!.root, spec.topologyId, spec.port) : null;
    const child = fork(this.workerMainPath, [], {
      execArgv,
      env: this.options.env ?? process.env,
      stdio: this.output === 'inherit' ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const logger = this.logger.child({ topologyId: spec.topologyId, port: spec.port, pid: child.pid ?? null });
    const logFile = logDir === null ? null : this.logFileOf(logDir, logger);
    const worker = new WorkerProcess(child, events, logger, this.clock, logFile);
    worker.send({ type: 'start', spec });
    return worker;
  }

  private logFileOf(dir: string, logger: Logger): WorkerLogFile {
    const logs = this.options.logs!;
    return new WorkerLogFile({ dir, fileBytesMax: logs.fileBytesMax, filesMax: logs.filesMax, clock: this.clock, logger });
  }
}

/** One forked worker: turns ChildProcess events into WorkerEvents, exactly one exit. */
class WorkerProcess implements WorkerHandle {
  private exited = false;
  private exitStatus: { code: number | null; signal: string | null } | null = null;
  private drainTimer: TimerHandle | null = null;
  private badMessages = 0;
  private readonly forwarders: LineForwarder[] = [];

  constructor(
    private readonly child: ChildProcess,
    private readonly events: WorkerEvents,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly logFile: WorkerLogFile | null,
  ) {
    const sink: LineSink | undefined = logFile ? (line, stream) => logFile.line(line, stream) : undefined;
    if (child.stdout) this.forwarders.push(new LineForwarder(child.stdout, logger, 'stdout', sink));
    if (child.stderr) this.forwarders.push(new LineForwarder(child.stderr, logger, 'stderr', sink));
    child.on('message', (raw) => this.onMessage(raw));
    child.on('error', (err) => this.onError(err));
    child.on('exit', (code, signal) => this.onProcessExit(code, signal));
    // The channel closes after the last message is delivered: only then is the exit reported, so
    // a 'fatal' sent just before exiting is never lost. (Not 'close': that also waits for the
    // output pipes, which a grandchild may hold.)
    child.on('disconnect', () => {
      if (this.exitStatus) this.finish();
    });
  }

  get pid(): number | null {
    return this.child.pid ?? null;
  }

  send(msg: SupervisorToWorker): void {
    if (this.exitStatus || !this.child.connected) {
      this.logger.debug({ type: msg.type }, 'not sending to a worker that is gone');
      return;
    }
    this.child.send(msg, (err: Error | null) => {
      if (err) this.logger.debug({ err, type: msg.type }, 'message to worker not delivered');
    });
  }

  kill(signal: 'SIGTERM' | 'SIGKILL'): void {
    if (this.exitStatus || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
  }

  private onMessage(raw: unknown): void {
    if (this.exited) return;
    const msg = parseWorkerMessage(raw);
    if (msg) {
      this.events.onMessage(msg);
      return;
    }
    this.badMessages += 1;
    if (this.badMessages <= BAD_MESSAGES_LOGGED_MAX) this.logger.warn({ badMessages: this.badMessages }, 'dropping a malformed message from a worker');
  }

  private onError(err: Error): void {
    this.logger.warn({ err: describeError(err) }, 'worker process error');
    // A process that could not be spawned emits 'error' and never 'exit'.
    if (this.child.pid === undefined) {
      this.exitStatus = { code: null, signal: null };
      this.finish();
    }
  }

  private onProcessExit(code: number | null, signal: string | null): void {
    this.exitStatus = { code, signal };
    if (!this.child.connected) this.finish();
    else this.drainTimer = this.clock.setTimeout(() => this.finish(), EXIT_DRAIN_MS);
  }

  private finish(): void {
    if (this.exited) return;
    this.exited = true;
    if (this.drainTimer) this.clock.clear(this.drainTimer);
    this.drainTimer = null;
    this.child.removeAllListeners('message');
    this.finishOutput();
    const status = this.exitStatus ?? { code: this.child.exitCode, signal: this.child.signalCode };
    this.events.onExit(status.code, status.signal);
  }

  /**
   * The worker's last lines (a crash's stack trace) may still be in its pipes when the exit is
   * reported: they are read to the end (bounded, as a grandchild may hold the pipes), then the
   * unterminated last lines are forwarded and the log file closed.
   */
  private finishOutput(): void {
    for (const f of this.forwarders) f.flush();
    let timer: TimerHandle | null = null;
    const drained = new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(resolve, EXIT_DRAIN_MS);
    });
    void Promise.race([Promise.all(this.forwarders.map((f) => f.ended)), drained]).then(() => {
      if (timer) this.clock.clear(timer);
      for (const f of this.forwarders) f.flush();
      return this.logFile?.close();
    });
  }
}
