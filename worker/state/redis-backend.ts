/**
 * The Redis backend (Storm's standard; ioredis). Per namespace and key group, two hashes
 * (`<prefix><ns>:<kg>:c` committed, `<prefix><ns>:<kg>:s` staged, a zero-length value meaning
 * "deleted": msgpack never encodes to zero bytes) and one hash of txids per namespace
 * (`<prefix><ns>:meta`, fields `c:<kg>` and `s:<kg>`). Every batch is one MULTI/EXEC, which
 * Redis applies all or nothing. Storm's RedisKeyValueState keeps a prepare hash and a commit
 * hash the same way.
 *
 * Outages: commands are not queued while Redis is unreachable (no offline queue, no retry of a
 * command on reconnect) and each is bounded by `commandTimeoutMs`, so a checkpoint during an
 * outage fails at once with ERR_STATE_BACKEND and the next one is tried on the next interval;
 * the client reconnects by itself with capped, jittered backoff. Durability of what Redis
 * acknowledged is Redis's own (AOF with `appendfsync always` or `everysec`; see docs/state.md).
 */
import Redis from 'ioredis';
import { squallError } from '../../topology-api';
import type { GroupMeta, Row, ScanPage, StateBackend, Table, WriteOp } from './backend';

export interface RedisBackendOptions {
  url?: string;
  /** Prepended to every key: `<keyPrefix><topology>:`. */
  keyPrefix: string;
  password?: string;
  db?: number;
  connectTimeoutMs?: number;
  commandTimeoutMs?: number;
}

const RECONNECT_MAX_MS = 2000;

/**
 * The fold of one key group, atomic in Redis: KEYS committed hash, staged hash, meta hash;
 * ARGV the staged-txid field, the committed-txid field. A zero-length staged value deletes the
 * row. Only a decided group is folded (staged txid ≤ committed txid): a fold the client gave up
 * on (command timeout) and ioredis sent again after a reconnect can run after the next prepare
 * sealed the group, and must not move that prepare's rows.
 */
const FOLD_SCRIPT = `
local staged = tonumber(redis.call('HGET', KEYS[3], ARGV[1]))
local committed = tonumber(redis.call('HGET', KEYS[3], ARGV[2]))
if staged == nil or committed == nil or staged > committed then
  return -1
end
local rows = redis.call('HGETALL', KEYS[2])
for i = 1, #rows, 2 do
  if string.len(rows[i + 1]) == 0 then
    redis.call('HDEL', KEYS[1], rows[i])
  else
    redis.call('HSET', KEYS[1], rows[i], rows[i + 1])
  end
end
redis.call('DEL', KEYS[2])
redis.call('HDEL', KEYS[3], ARGV[1])
return #rows / 2
`;

type FoldingRedis = Redis & { squallFold(committed: string, staged: string, meta: string, stagedField: string, committedField: string): Promise<number> };
const TOMBSTONE = Buffer.alloc(0);

const buf = (b: Uint8Array): Buffer => (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const num = (v: string | null): number | null => (v === null ? null : Number(v));

export class RedisBackend implements StateBackend {
  readonly name = 'redis';
  private readonly redis: FoldingRedis;
  private ready: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly options: RedisBackendOptions) {
    this.redis = <FoldingRedis>new Redis(options.url ?? 'redis://127.0.0.1:6379', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      commandTimeout: options.commandTimeoutMs ?? 5000,
      // a disconnect after the connection was lost arms a 2 s timer (ioredis's default) nothing clears
      disconnectTimeout: 200,
      ...(options.password !== undefined ? { password: options.password } : {}),
      ...(options.db !== undefined ? { db: options.db } : {}),
      // capped exponential backoff with jitter; never gives up (a checkpoint fails meanwhile)
      retryStrategy: (times) => Math.min(RECONNECT_MAX_MS, 50 * 2 ** Math.min(times, 6)) * (0.5 + Math.random() / 2),
    });
    // errors surface on the commands; the connection's own events are not fatal
    this.redis.on('error', () => undefined);
    this.redis.defineCommand('squallFold', { numberOfKeys: 3, lua: FOLD_SCRIPT });
  }

  private key(ns: string, suffix: string): string {
    return `${this.options.keyPrefix}${encodeURIComponent(ns)}:${suffix}`;
  }

  /** Connects on first use; if that fails, the next call tries again. */
  private async connected(): Promise<void> {
    if (this.closed) throw squallError('ERR_CLOSED', 'redis state backend is closed');
    if (this.redis.status === 'ready') return;
    this.ready ??= (this.redis.status === 'wait' ? this.redis.connect() : Promise.reject(new Error(`connection is ${this.redis.status}`))).finally(() => {
      this.ready = null;
    });
    await this.ready;
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      await this.connected();
      return await fn();
    } catch (err) {
      if ((err as { code?: string }).code === 'ERR_CLOSED') throw err;
      throw squallError('ERR_STATE_BACKEND', `redis: ${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
    }
  }

  meta(ns: string, groups: readonly number[]): Promise<GroupMeta[]> {
    return this.run('reading key-group txids', async () => {
      if (groups.length === 0) return [];
      const fields = groups.flatMap((kg) => [`c:${kg}`, `s:${kg}`]);
      const values = await this.redis.hmget(this.key(ns, 'meta'), ...fields);
      return groups.map((kg, i) => ({ kg, committed: num(values[2 * i]), staged: num(values[2 * i + 1]) }));
    });
  }

  scan(ns: string, kg: number, table: Table, cursor: unknown, limit: number): Promise<ScanPage> {
    return this.run(`scanning ${table} rows`, async () => {
      const [next, flat] = await this.redis.hscanBuffer(this.key(ns, `${kg}:${table === 'committed' ? 'c' : 's'}`), (cursor as string | null) ?? '0', 'COUNT', limit);
      const rows: Row[] = [];
      for (let i = 0; i < flat.length; i += 2) rows.push([flat[i], flat[i + 1].length === 0 ? null : flat[i + 1]]);
      const c = next.toString();
      return { rows, cursor: c === '0' ? null : c };
    });
  }

  write(ns: string, ops: readonly WriteOp[]): Promise<void> {
    return this.run('writing a batch', async () => {
      const multi = this.redis.multi();
      const meta = this.key(ns, 'meta');
      // one variadic command per (group, table, kind): batches hold thousands of rows
      const hset = new Map<string, Buffer[]>();
      const hdel = new Map<string, Buffer[]>();
      const add = (m: Map<string, Buffer[]>, key: string, ...items: Buffer[]): void => {
        const list = m.get(key);
        if (list) list.push(...items);
        else m.set(key, items);
      };
      const metaSet: string[] = [];
      const metaDel: string[] = [];
      for (const o of ops) {
        switch (o.op) {
          case 'put':
            add(hset, this.key(ns, `${o.kg}:c`), buf(o.key), buf(o.value));
            break;
          case 'del':
            add(hdel, this.key(ns, `${o.kg}:c`), buf(o.key));
            break;
          case 'stage':
            add(hset, this.key(ns, `${o.kg}:s`), buf(o.key), o.value === null ? TOMBSTONE : buf(o.value));
            break;
          case 'clearStaged':
            multi.del(this.key(ns, `${o.kg}:s`));
            metaDel.push(`s:${o.kg}`);
            break;
          case 'mark':
            for (const [field, v] of [
              [`c:${o.kg}`, o.committed],
              [`s:${o.kg}`, o.staged],
            ] as const) {
              if (v === undefined) continue;
              if (v === null) metaDel.push(field);
              else metaSet.push(field, String(v));
            }
            break;
        }
      }
      for (const [key, items] of hset) multi.hset(key, ...items);
      for (const [key, items] of hdel) multi.hdel(key, ...items);
      if (metaDel.length > 0) multi.hdel(meta, ...metaDel);
      if (metaSet.length > 0) multi.hset(meta, ...metaSet);
      const results = await multi.exec();
      if (results === null) throw new Error('transaction aborted');
      for (const [err] of results) if (err) throw err;
    });
  }

  fold(ns: string, kg: number): Promise<void> {
    return this.run('folding staged rows', async () => {
      await this.redis.squallFold(this.key(ns, `${kg}:c`), this.key(ns, `${kg}:s`), this.key(ns, 'meta'), `s:${kg}`, `c:${kg}`);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.redis.disconnect();
  }
}
