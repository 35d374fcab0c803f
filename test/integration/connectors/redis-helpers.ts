/**
 * Shared pieces of the Redis connector suites: a bolt that records what it saw (and can fail or
 * hold chosen tuples the first time), a direct ioredis client, and named bounded waits.
 */
import Redis from 'ioredis';
import { BaseRichBolt, type OutputCollector, type OutputFieldsDeclarer, type TopologyConfig, type TopologyContext, type Tuple } from '../../../topology-api';

export interface Seen {
  /** Every entry id executed, in order (with repeats). */
  ids: string[];
  /** Dead-letter tuples: [partition, offset, payload, error, failures]. */
  dead: unknown[][];
  /** Ids failed on purpose, and held (never acked) on purpose, the first time. */
  failedOnce: Set<string>;
  heldOnce: Set<string>;
}

export function newSeen(): Seen {
  return { ids: [], dead: [], failedOnce: new Set(), heldOnce: new Set() };
}

/**
 * Records the `id` field of each input and acks it; an id matching `failFirst` is failed the first
 * time, one matching `holdFirst` is left un-acked the first time (it times out).
 */
export class RecordBolt extends BaseRichBolt {
  private collector!: OutputCollector;
  constructor(
    private readonly seen: Seen,
    private readonly opts: { failFirst?: (id: string) => boolean; holdFirst?: (id: string) => boolean; idField?: string } = {},
  ) {
    super();
  }
  prepare(_c: Readonly<TopologyConfig>, _x: TopologyContext, collector: OutputCollector): void {
    this.collector = collector;
  }
  execute(input: Tuple): void {
    if (input.getSourceStreamId() === 'deadletter') {
      this.seen.dead.push([...input.getValues()]);
      this.collector.ack(input);
      return;
    }
    const id = String(input.getValueByField(this.opts.idField ?? 'id'));
    this.seen.ids.push(id);
    if (this.opts.failFirst?.(id) && !this.seen.failedOnce.has(id)) {
      this.seen.failedOnce.add(id);
      this.collector.fail(input);
      return;
    }
    if (this.opts.holdFirst?.(id) && !this.seen.heldOnce.has(id)) {
      this.seen.heldOnce.add(id);
      return;
    }
    this.collector.ack(input);
  }
  declareOutputFields(_d: OutputFieldsDeclarer): void {}
}

export function redisClient(port: number, password?: string): Redis {
  return new Redis({ host: '127.0.0.1', port, password, lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => null });
}

/** Appends `n` entries (`field` → value(i)) to `stream` in pipelined chunks; returns their ids. */
export async function appendEntries(client: Redis, stream: string, n: number, value: (i: number) => string, field = 'json'): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < n; start += 500) {
    const p = client.pipeline();
    for (let i = start; i < Math.min(n, start + 500); i++) p.xadd(stream, '*', field, value(i));
    for (const [err, id] of (await p.exec()) ?? []) {
      if (err) throw err;
      ids.push(id as string);
    }
  }
  return ids;
}

/** Entries of the group still pending (delivered, not XACKed). */
export async function pendingCount(client: Redis, stream: string, group: string): Promise<number> {
  const summary = (await client.xpending(stream, group)) as [number, ...unknown[]];
  return Number(summary[0]);
}

/**
 * Polls `check` every 50 ms until it returns a truthy value; throws naming `what` after
 * `timeoutMs`, with what `describe` says about the state then.
 */
export async function waitUntil<T>(what: string, check: () => T | Promise<T>, timeoutMs: number, describe?: () => unknown): Promise<NonNullable<T>> {
  const deadline = performance.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await check();
    if (last) return last as NonNullable<T>;
    if (performance.now() > deadline) {
      const state = describe === undefined ? JSON.stringify(last) : JSON.stringify(await describe());
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${state})`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}
