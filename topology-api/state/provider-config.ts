/**
 * `topology.state.provider` and `topology.state.provider.config`: which backend keeps checkpointed
 * state and how to reach it. Checked together, once, with the rest of the topology configuration
 * (config.ts); the worker reads the same parsed shape (worker/state/).
 */

export const STATE_PROVIDERS = ['memory', 'sqlite', 'redis'] as const;
export type StateProviderName = (typeof STATE_PROVIDERS)[number];

/** The embedded durable backend: no server needed (see docs/state.md "State backends"). */
export const DEFAULT_STATE_PROVIDER: StateProviderName = 'sqlite';

export interface SqliteStateConfig {
  /** Directory of the database files (default: the supervisor's `squall.state.dir`). */
  dir?: string;
  /** `full` (default) survives power loss; `normal` survives a process crash only. */
  synchronous?: 'full' | 'normal';
}

export interface RedisStateConfig {
  /** Default `redis://127.0.0.1:6379`. */
  url?: string;
  /** Prefix of every key Squall writes (default `squall:state:`). */
  keyPrefix?: string;
  password?: string;
  db?: number;
  /** Bound on connecting (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Bound on one command; past it the checkpoint fails with ERR_STATE_BACKEND (default 5000 ms). */
  commandTimeoutMs?: number;
}

type Check = (v: unknown) => string | undefined;
const str: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'must be a non-empty string');
const anyStr: Check = (v) => (typeof v === 'string' ? undefined : 'must be a string');
const int = (min: number, max: number): Check => (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? undefined : `must be an integer from ${min} to ${max}`;
const oneOf = (...values: string[]): Check => (v) => (values.includes(v as string) ? undefined : `must be one of ${values.join(', ')}`);

const PROVIDER_KEYS: Record<StateProviderName, Record<string, Check>> = {
  memory: {},
  sqlite: { dir: str, synchronous: oneOf('full', 'normal') },
  redis: {
    url: (v) => (typeof v === 'string' && /^rediss?:\/\//.test(v) ? undefined : 'must be a redis:// or rediss:// URL'),
    keyPrefix: anyStr,
    password: anyStr,
    db: int(0, 65535),
    connectTimeoutMs: int(1, 600_000),
    commandTimeoutMs: int(1, 600_000),
  },
};

/** `topology.state.provider.config` as an object: Storm passes a JSON string, Squall takes either. */
export function parseStateProviderConfig(value: unknown): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  const parsed = typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new TypeError('must be an object (or a JSON string of one)');
  return parsed as Record<string, unknown>;
}

export function isStateProviderName(v: unknown): v is StateProviderName {
  return typeof v === 'string' && (STATE_PROVIDERS as readonly string[]).includes(v);
}

/** Every problem with the provider's config keys (each of the two keys' own checks run first). */
export function stateProviderConfigProblems(provider: unknown, config: unknown): string[] {
  if (!isStateProviderName(provider)) return [];
  let parsed: Record<string, unknown>;
  try {
    parsed = parseStateProviderConfig(config);
  } catch {
    return []; // the key's own check reports it
  }
  const known = PROVIDER_KEYS[provider];
  const problems: string[] = [];
  for (const [key, value] of Object.entries(parsed)) {
    const check = known[key];
    if (!check) {
      const allowed = Object.keys(known);
      problems.push(`"topology.state.provider.config" has "${key}", which the ${provider} provider does not know (${allowed.length ? `it takes ${allowed.join(', ')}` : 'it takes nothing'})`);
      continue;
    }
    const why = check(value);
    if (why) problems.push(`"topology.state.provider.config.${key}" ${why} (got ${JSON.stringify(value)})`);
  }
  return problems;
}
