import type Redis from 'ioredis';
import type { SquallError, TopologyConfig, TopologyContext, Tuple } from '../../topology-api';
import { BatchingSinkBolt, checkSinkOptions, connectorError, intOption, oneOfOption, type BatchingSinkOptions, type Operation, type SinkWriter } from '../core';
import { classifyRedisError, connectClient, connectionProblems, connectTimeoutOf, createClient, describeTarget, dropClient, SYSTEM, type RedisConnectionOptions } from './connection';

type Value = string | number;
/** A constant, or a function of the input tuple (`fromField('name')` reads a tuple field). */
export type FromTuple<T> = T | ((input: Tuple) => T);

/** The value of tuple field `name`, for a FromTuple option: `field: fromField('campaign')`. */
export function fromField<T = string>(name: string): (input: Tuple) => T {
  let fields: unknown = null;
  let index = -1;
  return (t) => {
    // the field's position, looked up once per stream (Fields object), not per tuple
    if (t.getFields() !== fields) {
      fields = t.getFields();
      index = t.fieldIndex(name);
    }
    return t.getValue(index) as T;
  };
}

/**
 * What each input becomes:
 * - `xadd`: append an entry (`fields`, default every tuple field) to `stream` (MAXLEN ~ `maxLen`);
 * - `hset`: set `fields` (tuple fields; default every one) of hash `key`;
 * - `hincrby`: add `by` (default 1) to `field` of hash `key`;
 * - `incrby`: add `by` (default 1) to counter `key`;
 * - `set`: set `key` to `value`, with an optional TTL.
 * Set and hset are idempotent by nature (a replay writes the same value again); xadd, hincrby and
 * incrby are not — give them `idempotencyKey` and the sink applies each write at most once.
 */
export type RedisWriteSpec =
  | { command: 'xadd'; stream: FromTuple<string>; fields?: readonly string[]; maxLen?: number }
  | { command: 'hset'; key: FromTuple<string>; fields?: readonly string[] }
  | { command: 'hincrby'; key: FromTuple<string>; field: FromTuple<string>; by?: FromTuple<number> }
  | { command: 'incrby'; key: FromTuple<string>; by?: FromTuple<number> }
  | { command: 'set'; key: FromTuple<string>; value: FromTuple<Value>; ttlSecs?: number };

export interface RedisSinkOptions extends BatchingSinkOptions, RedisConnectionOptions {
  write: RedisWriteSpec;
  /**
   * Idempotent mode, for replays (at-least-once spouts, exactly-once recovery): a unique id per
   * input (e.g. the spout's offset; `fromField('id')`) — a write whose id was applied before is
   * skipped, atomically (one Lua script per batch, a marker key per id that expires after
   * `idempotencyTtlSecs`).
   */
  idempotencyKey?: (input: Tuple) => string | number;
  /** How long applied ids are remembered. Default 86400 (a day): longer than any replay. */
  idempotencyTtlSecs?: number;
  /** Prefix of the marker keys. Default `squall:applied:`. */
  idempotencyPrefix?: string;
}

/** One write: a command and its arguments, plus the idempotency id when there is one. */
export interface RedisWrite {
  args: Value[];
  id: string | null;
}

function pick<T>(input: Tuple, from: FromTuple<T>): T {
  return typeof from === 'function' ? (from as (t: Tuple) => T)(input) : from;
}

function fieldArgs(input: Tuple, names: readonly string[] | undefined): Value[] {
  const out: Value[] = [];
  const fields = names ?? input.getFields().toList();
  for (const f of fields) {
    const v = input.getValueByField(f);
    out.push(f, typeof v === 'string' || typeof v === 'number' ? v : JSON.stringify(v) ?? '');
  }
  return out;
}

/**
 * Applies each write whose id is new: KEYS are the marker keys, ARGV[1] the TTL, then per write
 * its arity followed by the command and its arguments. Returns how many were applied.
 */
const APPLY_ONCE = `
local ttl = tonumber(ARGV[1])
local i = 2
local applied = 0
for k = 1, #KEYS do
  local n = tonumber(ARGV[i])
  local args = {}
  for j = 1, n do args[j] = ARGV[i + j] end
  i = i + n + 1
  if redis.call('SET', KEYS[k], '1', 'NX', 'EX', ttl) then
    redis.call(unpack(args))
    applied = applied + 1
  end
end
return applied
`;

class RedisWriter implements SinkWriter<RedisWrite> {
  readonly system = SYSTEM;
  private client: Redis | null = null;
  private readonly where: string;

  constructor(
    private readonly o: RedisSinkOptions,
    private readonly name: string,
  ) {
    this.where = describeTarget(o);
  }

  async connect(): Promise<void> {
    dropClient(this.client);
    this.client = null;
    const c = createClient(this.o, this.name, () => undefined);
    try {
      await connectClient(c, connectTimeoutOf(this.o));
    } catch (err) {
      dropClient(c);
      throw err;
    }
    c.defineCommand('squallApplyOnce', { lua: APPLY_ONCE });
    this.client = c;
  }

  async write(items: readonly RedisWrite[]): Promise<void> {
    const c = this.client;
    if (c === null) throw connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, `${this.where}: not connected`);
    if (this.o.idempotencyKey !== undefined) {
      const prefix = this.o.idempotencyPrefix ?? 'squall:applied:';
      const keys = items.map((w) => prefix + w.id);
      const argv: Value[] = [this.o.idempotencyTtlSecs ?? 86_400];
      for (const w of items) argv.push(w.args.length, ...w.args);
      await (c as unknown as { squallApplyOnce(n: number, ...a: Value[]): Promise<number> }).squallApplyOnce(keys.length, ...keys, ...argv);
      return;
    }
    // one round trip per batch: pipelined (not MULTI: each write stands alone)
    const p = c.pipeline();
    for (const w of items) p.call(w.args[0] as string, ...w.args.slice(1));
    const results = (await p.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
  }

  classify(err: unknown, during: Operation): SquallError {
    return classifyRedisError(err, during, this.where);
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c !== null) {
      await c.quit().catch(() => undefined);
      dropClient(c);
    }
  }
}

/**
 * Redis sink: each input becomes one write (stream append, hash set, counter increment, set),
 * written in pipelined batches — one round trip per batch — on a size threshold, a short timer and
 * tick tuples; inputs are acked only after Redis confirmed the batch. See docs/connectors/redis.md.
 */
export class RedisSinkBolt extends BatchingSinkBolt<RedisWrite, RedisSinkOptions> {
  protected readonly system = SYSTEM;

  constructor(options: RedisSinkOptions) {
    super(options);
    const w = options.write as RedisWriteSpec | undefined;
    checkSinkOptions(SYSTEM, options, [
      ...connectionProblems(options),
      w === undefined || typeof w !== 'object' ? '"write" must say what each input becomes ({ command: "xadd" | "hset" | "hincrby" | "incrby" | "set", ... })' : oneOfOption('write.command', w.command, ['xadd', 'hset', 'hincrby', 'incrby', 'set']),
      intOption('idempotencyTtlSecs', options.idempotencyTtlSecs, 1),
      w?.command === 'xadd' ? intOption('write.maxLen', w.maxLen, 1) : undefined,
      w?.command === 'set' ? intOption('write.ttlSecs', w.ttlSecs, 1) : undefined,
    ]);
  }

  protected createWriter(_conf: Readonly<TopologyConfig>, context: TopologyContext): SinkWriter<RedisWrite> {
    return new RedisWriter(this.options, `${context.getThisComponentId()}-${context.getThisTaskIndex()}`);
  }

  protected toItem(input: Tuple): RedisWrite {
    const w = this.options.write;
    let args: Value[];
    switch (w.command) {
      case 'xadd':
        args = ['XADD', pick(input, w.stream), ...(w.maxLen !== undefined ? ['MAXLEN', '~', w.maxLen] : []), '*', ...fieldArgs(input, w.fields)];
        break;
      case 'hset':
        args = ['HSET', pick(input, w.key), ...fieldArgs(input, w.fields)];
        break;
      case 'hincrby':
        args = ['HINCRBY', pick(input, w.key), pick(input, w.field), w.by === undefined ? 1 : pick(input, w.by)];
        break;
      case 'incrby':
        args = ['INCRBY', pick(input, w.key), w.by === undefined ? 1 : pick(input, w.by)];
        break;
      case 'set':
        args = ['SET', pick(input, w.key), pick(input, w.value), ...(w.ttlSecs !== undefined ? ['EX', w.ttlSecs] : [])];
        break;
    }
    for (const a of args) if (a === undefined || a === null || (typeof a === 'number' && !Number.isFinite(a))) throw new Error(`a ${w.command} argument is ${String(a)}`);
    const idKey = this.options.idempotencyKey;
    const id = idKey === undefined ? null : String(idKey(input));
    return { args, id };
  }
}
