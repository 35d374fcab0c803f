/**
 * State backends with 1,000,000 keys, in this process: what `put` costs on the hot path (against
 * a plain Map.set), what a checkpoint of every key costs (prepare until durable, commit, bytes
 * staged), a checkpoint of 1% of them (the delta), reopening (a restarted worker loading the
 * state), and the longest the event loop stalled during a checkpoint (the data plane runs between
 * the slices a checkpoint is written in).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { KeyValueState, ManagedState, StateProviderName } from '../topology-api';
import type { StateBackend } from '../worker/state/backend';
import { MemoryBackend, MemoryStateStorage } from '../worker/state/memory-backend';
import { BackendStateProvider } from '../worker/state/provider';
import { RedisBackend } from '../worker/state/redis-backend';
import { SqliteBackend } from '../worker/state/sqlite-backend';
import { keyGroupOf, keyGroupRange, keyGroupsOf } from '../worker/state/key-groups';
import { startRedis, type RedisServer } from './servers/redis';

export const STATE_BENCH_KEYS = 1_000_000;
const MAX_KEY_GROUPS = 128;

export interface StateFigures {
  /** ns per put: a plain Map.set, a first change since the checkpoint, a repeated change, and a first change of a task that owns 1 of 4 key-group ranges */
  mapSetNs: number;
  putFirstNs: number;
  putAgainNs: number;
  putKeyedNs: number;
  /** every key changed */
  prepareMs: number;
  commitMs: number;
  sizeBytes: number;
  /** event-loop delay during that checkpoint: the longest, and the 99th percentile */
  stallMs: number;
  stallP99Ms: number;
  /** 1% of the keys changed */
  deltaPrepareMs: number;
  deltaCommitMs: number;
  deltaSizeBytes: number;
  /** a new provider opening the 1,000,000 keys */
  reopenMs: number;
}

interface Setup {
  backend: () => StateBackend;
  close(): Promise<void>;
}

async function setup(provider: StateProviderName): Promise<Setup> {
  switch (provider) {
    case 'memory': {
      const storage = new MemoryStateStorage();
      return { backend: () => new MemoryBackend(storage, 'bench'), close: async () => undefined };
    }
    case 'sqlite': {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-bench-state-'));
      return {
        backend: () => new SqliteBackend({ file: path.join(dir, 'bench.sqlite') }),
        close: async () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    }
    case 'redis': {
      const server: RedisServer = await startRedis();
      return { backend: () => new RedisBackend({ url: server.url, keyPrefix: 'bench:', commandTimeoutMs: 60_000 }), close: () => server.stop() };
    }
  }
}

const keys = Array.from({ length: STATE_BENCH_KEYS }, (_, i) => `word${i}`);

function nsPer(n: number, fn: () => void): number {
  const t0 = performance.now();
  fn();
  return ((performance.now() - t0) * 1e6) / n;
}

async function timed(fn: () => Promise<void>): Promise<{ ms: number; stallMs: number; stallP99Ms: number }> {
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const t0 = performance.now();
  await fn();
  const ms = performance.now() - t0;
  loop.disable();
  return { ms, stallMs: loop.max / 1e6, stallP99Ms: loop.percentile(99) / 1e6 };
}

/** prepareCommit until durable, then commit; the bytes staged; the longest loop stall meanwhile. */
async function checkpoint(
  state: KeyValueState<string, number> & ManagedState,
  txid: number,
): Promise<{ prepareMs: number; commitMs: number; sizeBytes: number; stallMs: number; stallP99Ms: number }> {
  let prepareMs = 0;
  const run = await timed(async () => {
    const t0 = performance.now();
    await state.prepareCommit(txid);
    prepareMs = performance.now() - t0;
    await state.commit(txid);
  });
  return { prepareMs, commitMs: run.ms - prepareMs, sizeBytes: state.checkpointStats().sizeBytes, stallMs: run.stallMs, stallP99Ms: run.stallP99Ms };
}

export async function stateFigures(provider: StateProviderName): Promise<StateFigures> {
  const env = await setup(provider);
  const providers: BackendStateProvider[] = [];
  const open = (): BackendStateProvider => {
    const p = new BackendStateProvider(provider, env.backend, MAX_KEY_GROUPS);
    providers.push(p);
    return p;
  };
  try {
    const map = new Map<string, number>();
    const mapSetNs = nsPer(keys.length, () => {
      for (let i = 0; i < keys.length; i++) map.set(keys[i], i);
    });
    map.clear();

    const state = await open().newState<string, number>('count');
    const putFirstNs = nsPer(keys.length, () => {
      for (let i = 0; i < keys.length; i++) state.put(keys[i], i);
    });
    const putAgainNs = nsPer(keys.length, () => {
      for (let i = 0; i < keys.length; i++) state.put(keys[i], i + 1);
    });

    const full = await checkpoint(state, 1);
    for (let i = 0; i < keys.length; i += 100) state.put(keys[i], -i);
    const delta = await checkpoint(state, 2);

    const reopen = await timed(async () => {
      const again = await open().newState<string, number>('count');
      if (again.size !== keys.length) throw new Error(`reopened ${again.size} keys, not ${keys.length}`);
    });

    // a keyed task: every put checks the key's group (a hash); only its own keys are put
    const groups = keyGroupsOf(keyGroupRange(0, 4, MAX_KEY_GROUPS));
    const keyed = await open().newState<string, number>('keyed', { keyGroups: groups });
    const owned = new Set(groups);
    const own = keys.filter((k) => owned.has(keyGroupOf(k, MAX_KEY_GROUPS)));
    const putKeyedNs = nsPer(own.length, () => {
      for (let i = 0; i < own.length; i++) keyed.put(own[i], i);
    });

    return {
      mapSetNs,
      putFirstNs,
      putAgainNs,
      putKeyedNs,
      prepareMs: full.prepareMs,
      commitMs: full.commitMs,
      sizeBytes: full.sizeBytes,
      stallMs: full.stallMs,
      stallP99Ms: full.stallP99Ms,
      deltaPrepareMs: delta.prepareMs,
      deltaCommitMs: delta.commitMs,
      deltaSizeBytes: delta.sizeBytes,
      reopenMs: reopen.ms,
    };
  } finally {
    await Promise.allSettled(providers.map((p) => p.close()));
    await env.close();
  }
}
