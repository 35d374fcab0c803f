/**
 * Reading a submitted bundle's topology without running user code in Nimbus: a child process
 * (probe-main.js) loads the bundle with a memory cap and a time limit and reports the definition
 * and config over IPC. Every way that can go wrong becomes ERR_BUNDLE_INVALID with the reason
 * (or ERR_TOPOLOGY_INVALID when the builder itself found problems).
 *
 * Isolation, not a sandbox: the child runs with Nimbus's user and file system access, but a
 * bundle that crashes, loops, exhausts memory or calls process.exit cannot take Nimbus down.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { SystemClock, type Clock, type TimerHandle } from '../common/clock';
import { squallError, type ErrorCode } from '../common/errors';
import type { Logger } from '../common/logging';
import type { TopologyConfig, TopologyDefinition } from '../common/topology';
import { parseProbeMessage } from './probe-protocol';

export interface ProbedTopology {
  definition: TopologyDefinition;
  /** Builder-level config merged with the module's `config` export (the module's wins). */
  config: TopologyConfig;
}

/** What Nimbus needs: unit tests pass a fake, production forks probe-main.js. */
export interface BundleProbe {
  probe(bundlePath: string): Promise<ProbedTopology>;
  /** Stops probes in flight (they fail with ERR_CLOSED). Idempotent. */
  close?(): Promise<void>;
}

export interface ForkBundleProbeOptions {
  timeoutMs: number;
  logger: Logger;
  /** The compiled probe-main.js; by default the one next to this file (dist/nimbus/). */
  scriptPath?: string;
  /** V8 heap cap of the child. */
  maxOldSpaceMb?: number;
  /** Probes at once; more fail with ERR_BUSY (each child may use maxOldSpaceMb). */
  concurrentMax?: number;
  clock?: Clock;
}

const STDERR_TAIL_CHARS = 2_000;
const DEFAULT_MAX_OLD_SPACE_MB = 256;
const DEFAULT_CONCURRENT_MAX = 2;

/** probe-main.js next to this module: dist/nimbus/probe-main.js once built. */
export function defaultProbeScript(): string {
  return path.join(__dirname, 'probe-main.js');
}

export class ForkBundleProbe implements BundleProbe {
  private readonly children = new Set<ChildProcess>();
  private readonly scriptPath: string;
  private readonly clock: Clock;
  private closed = false;

  constructor(private readonly options: ForkBundleProbeOptions) {
    this.scriptPath = options.scriptPath ?? defaultProbeScript();
    this.clock = options.clock ?? new SystemClock();
  }

  probe(bundlePath: string): Promise<ProbedTopology> {
    if (this.closed) return Promise.reject(squallError('ERR_CLOSED', 'the bundle probe is closed'));
    if (!existsSync(this.scriptPath)) {
      return Promise.reject(squallError('ERR_INTERNAL', `the bundle probe script is missing at ${this.scriptPath} (build with \`node scripts/build.js\`)`));
    }
    if (this.children.size >= (this.options.concurrentMax ?? DEFAULT_CONCURRENT_MAX)) {
      return Promise.reject(squallError('ERR_BUSY', 'too many bundles are being checked; retry shortly'));
    }
    return new Promise((resolve, reject) => this.run(bundlePath, resolve, reject));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const child of this.children) child.kill('SIGKILL');
  }

  private run(bundlePath: string, resolve: (t: ProbedTopology) => void, reject: (err: Error) => void): void {
    const logger = this.options.logger.child({ probe: path.basename(bundlePath) });
    const child = fork(this.scriptPath, [bundlePath], {
      execArgv: [`--max-old-space-size=${this.options.maxOldSpaceMb ?? DEFAULT_MAX_OLD_SPACE_MB}`],
      // stdout is not the channel: whatever the bundle prints there is dropped.
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
      cwd: path.dirname(bundlePath),
      env: { PATH: process.env.PATH ?? '' },
    });
    this.children.add(child);
    let stderr = '';
    let settled = false;
    let timer: TimerHandle | null = null;
    const finish = (err: Error | null, result?: ProbedTopology): void => {
      if (settled) return;
      settled = true;
      if (timer) this.clock.clear(timer);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (err) {
        logger.info({ code: (err as { code?: string }).code, reason: err.message }, 'bundle probe failed');
        reject(err);
      } else resolve(result!);
    };
    const invalid = (reason: string, code: ErrorCode = 'ERR_BUNDLE_INVALID', problems?: string[]): Error => squallError(code, reason, { problems });
    timer = this.clock.setTimeout(() => finish(invalid(`loading it took longer than ${this.options.timeoutMs / 1000}s (nimbus.bundle.probe.timeout.secs)`)), this.options.timeoutMs);
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_CHARS);
    });
    child.on('message', (raw) => {
      const msg = parseProbeMessage(raw);
      if (!msg) finish(invalid('the bundle sent something other than a probe result over the IPC channel'));
      else if (msg.type === 'topology') finish(null, { definition: msg.definition, config: msg.config });
      else if (msg.code === 'ERR_TOPOLOGY_INVALID') finish(invalid(`the bundle's topology: ${msg.problems.join('; ') || msg.message}`, 'ERR_TOPOLOGY_INVALID', msg.problems));
      else finish(invalid(msg.message));
    });
    child.on('error', (err) => finish(squallError('ERR_INTERNAL', `cannot run the bundle probe: ${err.message}`, { cause: err })));
    // 'close' (not 'exit'): it comes after the IPC channel has delivered every message.
    child.on('close', (code, signal) => {
      this.children.delete(child);
      if (this.closed) finish(squallError('ERR_CLOSED', 'the bundle probe was closed'));
      else finish(invalid(exitReason(code, signal, stderr)));
    });
  }
}

function exitReason(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  const tail = lastLines(stderr);
  const detail = tail ? `: ${tail}` : '';
  if (code === 0) return 'it exited while loading without defining a topology (process.exit or nothing left to run)';
  if (signal) return `the process loading it was killed by ${signal}${/heap/i.test(stderr) ? ' (out of memory)' : ''}${detail}`;
  return `the process loading it crashed with exit code ${code}${/heap out of memory|Reached heap limit/i.test(stderr) ? ' (out of memory)' : ''}${detail}`;
}

/** The last few non-empty stderr lines, for the reason. */
function lastLines(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .slice(-3)
    .join(' | ')
    .slice(-500);
}
