/**
 * `topology.state.provider` → a StateProvider for one worker and topology: the backend is made on
 * first use (a topology without stateful bolts never connects to Redis or opens a file), shared by
 * every state the worker opens, and closed with the provider.
 */
import * as path from 'node:path';
import {
  Config,
  DEFAULT_STATE_PROVIDER,
  parseStateProviderConfig,
  squallError,
  type KeyValueState,
  type ManagedState,
  type RedisStateConfig,
  type SqliteStateConfig,
  type StateFactory,
  type StateOpenOptions,
  type StateProvider,
  type StateProviderName,
  type TopologyConfig,
} from '../../topology-api';
import type { StateBackend } from './backend';
import { StateCodec } from './codec';
import { allKeyGroups } from './key-groups';
import { KeyValueStateImpl } from './kv-state';
import { MemoryBackend, MemoryStateStorage } from './memory-backend';
import { RedisBackend } from './redis-backend';
import { SqliteBackend } from './sqlite-backend';
import { KeyGroupStore } from './two-phase';

export interface StateEnvironment {
  /** Scopes every namespace: the topology's name (state outlives one submission, as in Storm). */
  topology: string;
  /**
   * Where the embedded backend keeps its files on this machine: the supervisor's
   * `squall.state.dir` (WorkerStartSpec.stateDir), or local mode's. The provider config's `dir`
   * overrides it.
   */
  dir: string | null;
  /** Rows of the memory backend, kept by whoever outlives the worker (LocalCluster). */
  memory?: MemoryStateStorage;
}

export const DEFAULT_REDIS_KEY_PREFIX = 'squall:state:';

/** The database file of a topology under a state directory. */
export function sqliteStateFile(dir: string, topology: string): string {
  return path.join(dir, `${encodeURIComponent(topology)}.sqlite`);
}

export function createStateBackend(name: StateProviderName, providerConfig: Record<string, unknown>, env: StateEnvironment): StateBackend {
  switch (name) {
    case 'memory':
      return new MemoryBackend(env.memory ?? new MemoryStateStorage(), env.topology);
    case 'sqlite': {
      const c = providerConfig as SqliteStateConfig;
      const dir = c.dir ?? env.dir;
      if (!dir) throw squallError('ERR_CONFIG_INVALID', 'the sqlite state provider needs a directory: set topology.state.provider.config.dir or squall.state.dir');
      return new SqliteBackend({ file: sqliteStateFile(dir, env.topology), synchronous: c.synchronous });
    }
    case 'redis': {
      const c = providerConfig as RedisStateConfig;
      return new RedisBackend({ ...c, keyPrefix: `${c.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX}${env.topology}:` });
    }
  }
}

export class BackendStateProvider implements StateProvider, StateFactory {
  private backend: StateBackend | null = null;
  private readonly states = new Set<ManagedState>();
  private readonly codec = new StateCodec();
  private closing: Promise<void> | null = null;

  constructor(
    readonly name: StateProviderName,
    private readonly makeBackend: () => StateBackend,
    private readonly maxKeyGroups: number,
  ) {}

  async newState<K, V>(namespace: string, options: StateOpenOptions = {}): Promise<KeyValueState<K, V> & ManagedState> {
    if (this.closing) throw squallError('ERR_CLOSED', 'the state provider is closed');
    this.backend ??= this.makeBackend();
    const owned = options.keyGroups ?? null;
    for (const g of owned ?? []) {
      if (!Number.isInteger(g) || g < 0 || g >= this.maxKeyGroups) throw new RangeError(`key group ${g} is not in 0..${this.maxKeyGroups - 1}`);
    }
    const store = new KeyGroupStore(this.backend, namespace, owned ?? allKeyGroups(this.maxKeyGroups));
    const state: KeyValueStateImpl<K, V> = await KeyValueStateImpl.open<K, V>({
      store,
      codec: this.codec,
      maxKeyGroups: this.maxKeyGroups,
      ownedGroups: owned,
      onClose: () => this.states.delete(state),
    });
    this.states.add(state);
    return state;
  }

  getState<K, V>(namespace: string, options?: StateOpenOptions): Promise<KeyValueState<K, V> & ManagedState> {
    return this.newState<K, V>(namespace, options);
  }

  /** The checkpoint runtime's StateSource (worker/checkpoint/state-access.ts). */
  open(ref: { namespace: string; keyGroups?: readonly number[] }): Promise<KeyValueState<unknown, unknown> & ManagedState> {
    return this.newState(ref.namespace, ref.keyGroups === undefined ? {} : { keyGroups: ref.keyGroups });
  }

  /** Closes every state (each waits for its write in flight), then the backend. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.states].map((s) => s.close()));
      await this.backend?.close();
    })();
    return this.closing;
  }
}

/** The provider `topology.state.provider` names, configured by `topology.state.provider.config`. */
export function createStateProvider(conf: Readonly<TopologyConfig>, env: StateEnvironment): BackendStateProvider {
  const name = (conf[Config.TOPOLOGY_STATE_PROVIDER] ?? DEFAULT_STATE_PROVIDER) as StateProviderName;
  const providerConfig = parseStateProviderConfig(conf[Config.TOPOLOGY_STATE_PROVIDER_CONFIG]);
  const maxKeyGroups = (conf[Config.TOPOLOGY_STATE_MAX_KEY_GROUPS] as number | undefined) ?? 128;
  return new BackendStateProvider(name, () => createStateBackend(name, providerConfig, env), maxKeyGroups);
}
