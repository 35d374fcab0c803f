/**
 * kill -9 of a process that is checkpointing, at chosen and at seeded-random moments: the state a
 * restarted process opens is always exactly one committed checkpoint (every key holds the same
 * txid), never part of one, and never older than the last commit the process reported. A
 * prepare cut off by the kill before its commit is invisible, and a replayed commit (recovery)
 * applies it whole.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { Random } from '../../../common/random';
import { BackendStateProvider } from '../../../worker/state/provider';
import { RedisBackend } from '../../../worker/state/redis-backend';
import { SqliteBackend } from '../../../worker/state/sqlite-backend';
import { startRedis, type RedisServer } from '../../../bench/servers/redis';
import type { StateBackend } from '../../../worker/state/backend';
import { backstopMs } from '../../helpers/cluster-harness';

const ROOT = path.resolve(__dirname, '../../..');
const KEYS = 20_000; // several 4096-row pages per prepare and per fold
const LINE_WAIT_MS = 30_000;
const ROUNDS = 6;
/** redis-server's own bounded readiness wait (bench/servers) and its stop. */
const REDIS_BOUND_MS = 30_000;

let dir: string;
let childJs: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-crash-'));
  childJs = path.join(dir, 'checkpoint-child.js');
  buildSync({
    entryPoints: [path.join(ROOT, 'test/fixtures/state/checkpoint-child.ts')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    external: ['better-sqlite3', 'ioredis'],
    outfile: childJs,
    logLevel: 'error',
  });
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A child process and the lines it printed; `waitFor` is bounded and names what it waits for. */
class Child {
  readonly lines: string[] = [];
  private readonly waiters: Array<() => void> = [];
  private readonly proc: ChildProcess;
  private readonly exited: Promise<void>;
  stderr = '';

  constructor(args: string[]) {
    this.proc = spawn(process.execPath, [childJs, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') },
    });
    let partial = '';
    this.proc.stdout!.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop()!;
      this.lines.push(...parts);
      for (const w of this.waiters.splice(0)) w();
    });
    this.proc.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    // 'close': after the exit and after every line it wrote has been read
    this.exited = new Promise((resolve) => this.proc.once('close', () => resolve()));
  }

  async waitFor(what: string, match: (line: string) => boolean): Promise<string> {
    const deadline = performance.now() + LINE_WAIT_MS;
    for (;;) {
      const hit = this.lines.find(match);
      if (hit !== undefined) return hit;
      if (this.proc.exitCode !== null || performance.now() > deadline) {
        throw new Error(`child: no "${what}" within ${LINE_WAIT_MS} ms (exit ${this.proc.exitCode}); lines ${this.lines.slice(-5).join(' | ')}; stderr ${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 100);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** SIGKILL by PID; resolves once it has exited. */
  async kill9(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) process.kill(this.proc.pid!, 'SIGKILL');
    await this.exited;
  }

  lastTxid(step: string): number {
    let last = 0;
    for (const l of this.lines) if (l.startsWith(`${step} `)) last = Number(l.split(' ')[1]);
    return last;
  }
}

const txidOf = (line: string): number => Number(line.split(' ')[1]);

/** Opens the state as a restarted worker does and checks it is one whole checkpoint; returns its txid. */
async function wholeCheckpoint(name: 'sqlite' | 'redis', backend: () => StateBackend, ns: string): Promise<{ txid: number; provider: BackendStateProvider }> {
  const provider = new BackendStateProvider(name, backend, 16);
  const state = await provider.newState<string, number>(ns);
  const txid = state.checkpointStats().committedTxid ?? 0;
  const values = new Map<number, number>();
  for (const [k, v] of state) if (k.startsWith('k')) values.set(v, (values.get(v) ?? 0) + 1);
  if (txid === 0) {
    expect(state.size).toBe(0);
  } else {
    expect([...values.entries()]).toEqual([[txid, KEYS]]); // every key from the same checkpoint
    expect(state.size).toBe(KEYS + 1);
    expect(state.get(`d${txid}`)).toBe(txid);
  }
  return { txid, provider };
}

describe('crash atomicity (sqlite, kill -9)', () => {
  const NAME = 'sqlite';
  const file = (): string => path.join(dir, `${expect.getState().currentTestName!.replace(/\W+/g, '-')}.sqlite`);

  it('a kill between prepare and commit leaves the last commit; a replayed commit applies the prepared one', async () => {
    const db = file();
    const child = new Child(['sqlite', db, 'ns', String(KEYS), 'stop-after-prepare:3']);
    await child.waitFor('prepared 3', (l) => l === 'prepared 3');
    expect(child.lastTxid('committed')).toBe(2);
    await child.kill9();
    const backend = (): StateBackend => new SqliteBackend({ file: db });
    const first = await wholeCheckpoint(NAME, backend, 'ns');
    expect(first.txid).toBe(2);
    // recovery: the coordinator had decided to commit 3
    const replay = await first.provider.newState<string, number>('ns');
    await replay.commit(3);
    expect(replay.get('k0')).toBe(3);
    await first.provider.close();
    const second = await wholeCheckpoint(NAME, backend, 'ns');
    expect(second.txid).toBe(3);
    await second.provider.close();
  }, backstopMs(LINE_WAIT_MS));

  it('kills at seeded-random moments of a running checkpoint loop always leave one whole checkpoint', async () => {
    const db = file();
    const rng = new Random(20240611);
    const backend = (): StateBackend => new SqliteBackend({ file: db });
    let lastCommitted = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const child = new Child(['sqlite', db, 'ns', String(KEYS), 'run']);
      const opened = txidOf(await child.waitFor('opened', (l) => l.startsWith('opened ')));
      expect(opened).toBeGreaterThanOrEqual(lastCommitted);
      // let it commit at least one checkpoint, then kill it somewhere in the next ones
      await child.waitFor('a commit', (l) => l.startsWith('committed '));
      const step = ['prepared', 'committing', 'committed'][rng.nextInt(3)];
      const target = child.lastTxid('committed') + 1;
      await child.waitFor(`${step} ${target}`, (l) => l === `${step} ${target}`);
      await new Promise((r) => setTimeout(r, rng.nextInt(40))); // into whatever follows that step
      await child.kill9();
      const reported = child.lastTxid('committed');
      const { txid, provider } = await wholeCheckpoint(NAME, backend, 'ns');
      await provider.close();
      expect(txid).toBeGreaterThanOrEqual(reported);
      expect(txid).toBeLessThanOrEqual(child.lastTxid('prepared'));
      lastCommitted = txid;
    }
  }, backstopMs(ROUNDS * 3 * LINE_WAIT_MS));
});

describe('crash atomicity (redis, kill -9 of the worker)', () => {
  const NAME = 'redis';
  let redis: RedisServer;
  beforeAll(async () => {
    redis = await startRedis({ persistent: true });
  }, backstopMs(REDIS_BOUND_MS));
  afterAll(async () => {
    await redis?.stop();
  }, backstopMs(REDIS_BOUND_MS));

  it('a kill between prepare and commit leaves the last commit; a replayed commit applies the prepared one', async () => {
    const backend = (): StateBackend => new RedisBackend({ url: redis.url, keyPrefix: 'crash:' });
    const child = new Child(['redis', redis.url, 'ns', String(KEYS), 'stop-after-prepare:2']);
    await child.waitFor('prepared 2', (l) => l === 'prepared 2');
    await child.kill9();
    const first = await wholeCheckpoint(NAME, backend, 'ns');
    expect(first.txid).toBe(1);
    const replay = await first.provider.newState<string, number>('ns');
    await replay.commit(2);
    await first.provider.close();
    const second = await wholeCheckpoint(NAME, backend, 'ns');
    expect(second.txid).toBe(2);
    await second.provider.close();
  }, backstopMs(LINE_WAIT_MS));
});
