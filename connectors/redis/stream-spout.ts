import type Redis from 'ioredis';
import { Config, type SquallError, type TopologyConfig, type TopologyContext } from '../../topology-api';
import {
  BrokerSpout,
  checkSpoutOptions,
  connectorError,
  guaranteeOf,
  intOption,
  oneOfOption,
  stringOption,
  type BrokerSpoutOptions,
  type Offsets,
  type Operation,
  type Scheme,
  type SourceAdapter,
  type SourceMessage,
} from '../core';
import { classifyRedisError, connectClient, connectionProblems, connectTimeoutOf, createClient, describeTarget, dropClient, SYSTEM, type RedisConnectionOptions } from './connection';

/** An entry of a Redis stream: its field/value pairs, or the one field `payloadField` names. */
export interface RedisStreamMessage extends SourceMessage {
  readonly offset: string;
}

export interface RedisStreamSpoutOptions extends BrokerSpoutOptions, RedisConnectionOptions {
  /** The stream key(s) to read. */
  stream: string | readonly string[];
  /**
   * `group` (default; at-most- and at-least-once): a consumer group shared by every task
   * (XREADGROUP, XACK, pending entries claimed back with XAUTOCLAIM). `position` (exactly-once,
   * chosen automatically under `topology.processing.guarantee: exactly-once`): each task reads its
   * share of the stream keys by id with XREAD, so it can rewind (`seek`).
   */
  mode?: 'group' | 'position';
  /** Consumer group name. Default: the spout's component id. */
  group?: string;
  /** Consumer name prefix; each task is `<prefix>-<task index>`. Default: the component id. */
  consumerPrefix?: string;
  /** Where a new group (or the position mode without a checkpoint) starts: `$` (new entries), `0` (all) or an id (after it). Default `$`. */
  start?: string;
  /** When set, the payload is this field's value (entries without it cannot be decoded); else all fields as an object. */
  payloadField?: string;
  /** How long a read waits for new entries (BLOCK). Default 100 ms. */
  blockMs?: number;
  /** Pending entries idle this long are claimed from their consumer (XAUTOCLAIM). Default: 3 × the message timeout. */
  claimMinIdleMs?: number;
  /** How often pending entries are looked for. Default: min(claimMinIdleMs / 2, 10 s). */
  claimIntervalMs?: number;
  /** The broker-side dead-letter stream. Default `<stream>:dlq`. */
  deadLetterKey?: string;
  /** Approximate cap of the dead-letter stream (XADD MAXLEN ~). Default 100000. */
  deadLetterMaxLen?: number;
}

/** Tuple fields of the default scheme: the stream key, the entry id, and the payload. */
export const REDIS_ENTRY_FIELDS = ['stream', 'id', 'payload'] as const;

/** The default scheme: `[stream, id, payload]`. */
export function redisEntryScheme(): Scheme {
  return { fields: [...REDIS_ENTRY_FIELDS], decode: (payload, m) => [m.partition, m.offset, payload] };
}

/** Named fields of an entry (payload as an object), in order; a missing field is null. */
export function redisFieldsScheme(fields: readonly string[]): Scheme {
  return {
    fields: [...fields],
    decode(payload) {
      if (typeof payload !== 'object' || payload === null) throw new Error('expected the entry fields (leave payloadField unset)');
      return fields.map((f) => (payload as Record<string, string>)[f] ?? null);
    },
  };
}

function streamsOf(o: RedisStreamSpoutOptions): string[] {
  return typeof o.stream === 'string' ? [o.stream] : [...o.stream];
}

/** Redis stream ids `ms-seq`, compared numerically. */
export function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-');
  const [bm, bs] = b.split('-');
  const d = Number(am) - Number(bm);
  return d !== 0 ? d : Number(as ?? 0) - Number(bs ?? 0);
}

type Entry = [id: string, fields: string[] | null];

/** The ioredis side: connections, reads, acks, claims and the dead-letter stream. */
class RedisStreamAdapter implements SourceAdapter<RedisStreamMessage> {
  readonly system = SYSTEM;
  readonly commitStyle = 'message' as const;
  readonly pollBlocks = true;
  /** Blocking reads only: a command queued behind a BLOCK would wait for it. */
  private reader: Redis | null = null;
  /** Acks, claims, dead letters. */
  private writer: Redis | null = null;
  private readonly streams: string[];
  /**
   * Group mode: still reading this consumer's own pending entries, delivered to a previous run of
   * this task (a crashed worker) and never acknowledged? Only once, at the first connect: after a
   * reconnect the task still holds what it had in flight, and reading it again would duplicate it.
   */
  private history = true;
  private nextClaimMs = 0;
  private claimCursor = new Map<string, string>();
  /** Position mode: the last id read per stream. */
  private positions = new Map<string, string>();
  private sought: Offsets | null | undefined = undefined;
  private readonly where: string;
  private lost: ((err: unknown) => void) | null = null;

  constructor(
    private readonly o: RedisStreamSpoutOptions,
    private readonly mode: 'group' | 'position',
    private readonly group: string,
    private readonly consumer: string,
    streams: string[],
    private readonly claimMinIdleMs: number,
    private readonly claimIntervalMs: number,
    private readonly now: () => number,
    /** at-most-once: XREADGROUP ... NOACK (nothing enters the pending entries list, nothing to XACK). */
    private readonly noAck: boolean,
  ) {
    this.streams = streams;
    this.where = describeTarget(o);
  }

  async connect(): Promise<void> {
    dropClient(this.reader);
    dropClient(this.writer);
    this.reader = null;
    this.writer = null;
    const ignore = (): void => undefined;
    const reader = createClient(this.o, `${this.consumer}-read`, ignore);
    const writer = createClient(this.o, `${this.consumer}-write`, ignore);
    try {
      await Promise.all([connectClient(reader, connectTimeoutOf(this.o)), connectClient(writer, connectTimeoutOf(this.o))]);
    } catch (err) {
      dropClient(reader);
      dropClient(writer);
      throw err;
    }
    this.reader = reader;
    this.writer = writer;
    this.watch(reader);
    this.watch(writer);
    if (this.mode === 'group') {
      for (const s of this.streams) {
        try {
          await writer.xgroup('CREATE', s, this.group, this.o.start === '0' ? '0' : (this.o.start ?? '$'), 'MKSTREAM');
        } catch (err) {
          if (!/BUSYGROUP/.test(String((err as Error).message))) throw err;
        }
      }
    } else if (this.sought === undefined && this.positions.size === 0) {
      await this.startPositions(writer, null);
    }
  }

  onConnectionLost(lost: (err: unknown) => void): void {
    this.lost = lost;
  }

  /** Tells the core when a current connection ends by itself (ours are never retried by ioredis). */
  private watch(client: Redis): void {
    client.once('end', () => {
      if (this.lost === null || (this.reader !== client && this.writer !== client)) return; // dropped by us
      this.lost(Object.assign(new Error(`${this.where}: the connection closed`), { code: 'ECONNRESET' }));
    });
  }

  /** Position mode: where reading starts per stream (`$` resolves to the current last id). */
  private async startPositions(writer: Redis, from: Offsets | null): Promise<void> {
    const start = this.o.start ?? '$';
    const next = new Map<string, string>();
    for (const s of this.streams) {
      const at = from?.[s];
      if (at !== undefined) next.set(s, String(at));
      else if (start === '$') {
        const last = (await writer.xrevrange(s, '+', '-', 'COUNT', 1)) as Entry[];
        next.set(s, last.length > 0 ? last[0][0] : '0-0');
      } else next.set(s, start === '0' ? '0-0' : start);
    }
    this.positions = next;
  }

  async poll(max: number): Promise<readonly RedisStreamMessage[]> {
    if (this.sought !== undefined) {
      await this.startPositions(this.writer!, this.sought);
      this.sought = undefined;
    }
    if (this.mode === 'position') return this.readPositions(max);
    const out: RedisStreamMessage[] = [];
    if (this.history) {
      // this consumer's entries delivered before a restart and never acknowledged
      const reply = (await this.writer!.xreadgroup('GROUP', this.group, this.consumer, 'COUNT', max, 'STREAMS', ...this.streams, ...this.streams.map(() => '0'))) as
        | Array<[string, Entry[]]>
        | null;
      this.collect(reply, out, 2);
      if (out.length > 0) return out;
      this.history = false;
    }
    if (!this.noAck && this.now() >= this.nextClaimMs) {
      this.nextClaimMs = this.now() + this.claimIntervalMs;
      await this.claim(max, out);
      if (out.length > 0) return out;
    }
    const args: Array<string | number> = ['GROUP', this.group, this.consumer, 'COUNT', max, 'BLOCK', this.o.blockMs ?? 100];
    if (this.noAck) args.push('NOACK');
    args.push('STREAMS', ...this.streams, ...this.streams.map(() => '>'));
    const reader = this.reader as unknown as { xreadgroup(...a: Array<string | number>): Promise<unknown> };
    const reply = (await reader.xreadgroup(...args)) as Array<[string, Entry[]]> | null;
    this.collect(reply, out, 1);
    return out;
  }

  /** Claims entries idle longer than claimMinIdleMs from any consumer (a crashed task's, a timed-out one's). */
  private async claim(max: number, out: RedisStreamMessage[]): Promise<void> {
    const w = this.writer!;
    for (const s of this.streams) {
      if (out.length >= max) return;
      const cursor = this.claimCursor.get(s) ?? '0-0';
      const reply = (await w.xautoclaim(s, this.group, this.consumer, this.claimMinIdleMs, cursor, 'COUNT', max - out.length)) as [string, Entry[], string[]?];
      this.claimCursor.set(s, reply[0]);
      const entries = reply[1].filter((e) => e !== null && e[1] !== null);
      if (entries.length === 0) continue;
      // the delivery counts, so a message that kills its worker every time is dead-lettered eventually
      const pending = (await w.xpending(s, this.group, entries[0][0], entries[entries.length - 1][0], entries.length, this.consumer)) as Array<[string, string, number, number]>;
      const deliveries = new Map(pending.map((p) => [p[0], Number(p[3])]));
      for (const [id, fields] of entries) out.push(this.message(s, id, fields as string[], deliveries.get(id) ?? 2));
    }
  }

  private async readPositions(max: number): Promise<readonly RedisStreamMessage[]> {
    const out: RedisStreamMessage[] = [];
    if (this.streams.length === 0) {
      await new Promise((r) => setTimeout(r, this.o.blockMs ?? 100));
      return out;
    }
    const ids = this.streams.map((s) => this.positions.get(s) ?? '0-0');
    const reply = (await this.reader!.xread('COUNT', max, 'BLOCK', this.o.blockMs ?? 100, 'STREAMS', ...this.streams, ...ids)) as Array<[string, Entry[]]> | null;
    this.collect(reply, out, 1);
    for (const m of out) this.positions.set(m.partition, m.offset);
    return out;
  }

  private collect(reply: Array<[string, Entry[]]> | null, out: RedisStreamMessage[], deliveries: number): void {
    if (reply === null) return;
    for (const [stream, entries] of reply) {
      for (const [id, fields] of entries) {
        // an entry deleted (XDEL, MAXLEN) while pending comes back without fields: nothing to process
        if (fields === null) continue;
        out.push(this.message(stream, id, fields, deliveries));
      }
    }
  }

  private message(stream: string, id: string, fields: string[], deliveries: number): RedisStreamMessage {
    const pf = this.o.payloadField;
    let payload: unknown;
    if (pf !== undefined) {
      payload = null;
      for (let i = 0; i < fields.length; i += 2) {
        if (fields[i] === pf) {
          payload = fields[i + 1];
          break;
        }
      }
    } else {
      const obj: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) obj[fields[i]] = fields[i + 1];
      payload = obj;
    }
    return { partition: stream, offset: id, payload, deliveries };
  }

  async ack(messages: readonly RedisStreamMessage[]): Promise<void> {
    if (this.mode !== 'group' || this.noAck || messages.length === 0) return;
    const w = this.writer;
    if (w === null) throw connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, `${this.where}: not connected`);
    if (this.streams.length === 1) {
      await w.xack(this.streams[0], this.group, ...messages.map((m) => m.offset));
      return;
    }
    const byStream = new Map<string, string[]>();
    for (const m of messages) {
      let ids = byStream.get(m.partition);
      if (ids === undefined) byStream.set(m.partition, (ids = []));
      ids.push(m.offset);
    }
    const p = w.pipeline();
    for (const [s, ids] of byStream) p.xack(s, this.group, ...ids);
    const results = (await p.exec()) ?? [];
    for (const [err] of results) if (err) throw err;
  }

  async deadLetter(m: RedisStreamMessage, reason: string, failures: number): Promise<void> {
    const w = this.writer;
    if (w === null) throw connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, `${this.where}: not connected`);
    const key = this.o.deadLetterKey ?? `${m.partition}:dlq`;
    const payload = typeof m.payload === 'string' ? m.payload : JSON.stringify(m.payload);
    await w.xadd(key, 'MAXLEN', '~', this.o.deadLetterMaxLen ?? 100_000, '*', 'stream', m.partition, 'id', m.offset, 'payload', payload ?? '', 'error', reason, 'failures', String(failures));
  }

  replayable(): boolean {
    return this.mode === 'position';
  }

  seek(positions: Offsets | null): void {
    this.sought = positions;
  }

  classify(err: unknown, during: Operation): SquallError {
    return classifyRedisError(err, during, this.where);
  }

  async close(): Promise<void> {
    const w = this.writer;
    this.writer = null;
    dropClient(this.reader);
    this.reader = null;
    if (w !== null) {
      await w.quit().catch(() => undefined);
      dropClient(w);
    }
  }
}

/**
 * Redis Streams spout: a consumer group shared by every task of the spout (XREADGROUP in batches,
 * XACK when the tuple tree completes, entries left pending by a crashed or slow consumer claimed
 * back with XAUTOCLAIM), or, for exactly-once, reading by id so it can rewind. Everything else —
 * prefetch, in-flight limit, retries, dead letters, reconnects — is the shared core's
 * (docs/connectors/core.md). See docs/connectors/redis.md.
 */
export class RedisStreamSpout extends BrokerSpout<RedisStreamMessage, RedisStreamSpoutOptions> {
  protected readonly system = SYSTEM;

  constructor(options: RedisStreamSpoutOptions) {
    super(options);
    const o = options;
    const streams = o.stream === undefined ? [] : streamsOf(o);
    checkSpoutOptions(SYSTEM, o, [
      ...connectionProblems(o),
      streams.length === 0 || streams.some((s) => typeof s !== 'string' || s.length === 0) ? '"stream" must be a stream key or a non-empty list of them' : undefined,
      oneOfOption('mode', o.mode, ['group', 'position']),
      stringOption('group', o.group),
      stringOption('consumerPrefix', o.consumerPrefix),
      stringOption('payloadField', o.payloadField),
      stringOption('deadLetterKey', o.deadLetterKey),
      o.start !== undefined && !/^(\$|0|\d+(-\d+)?)$/.test(o.start) ? `"start" must be "$", "0" or a stream id (got ${JSON.stringify(o.start)})` : undefined,
      intOption('blockMs', o.blockMs, 1),
      intOption('claimMinIdleMs', o.claimMinIdleMs, 1),
      intOption('claimIntervalMs', o.claimIntervalMs, 1),
      intOption('deadLetterMaxLen', o.deadLetterMaxLen, 1),
      o.mode === 'group' && o.guarantee === 'exactly-once' ? 'mode "group" cannot rewind, so it cannot serve exactly-once: use mode "position"' : undefined,
    ]);
  }

  protected createAdapter(conf: Readonly<TopologyConfig>, context: TopologyContext): SourceAdapter<RedisStreamMessage> {
    const o = this.options;
    const component = context.getThisComponentId();
    const guarantee = o.guarantee ?? guaranteeOf(conf);
    const mode = o.mode ?? (guarantee === 'exactly-once' ? 'position' : 'group');
    if (mode === 'group' && guarantee === 'exactly-once') {
      throw connectorError('ERR_CONNECTOR_CONFIG', SYSTEM, 'mode "group" cannot rewind, so it cannot serve exactly-once: use mode "position" (or leave mode unset)');
    }
    const all = streamsOf(o);
    const index = context.getThisTaskIndex();
    const tasks = context.getComponentTasks(component).length;
    // position mode splits the keys over the tasks, as Kafka partitions over a group's consumers
    const streams = mode === 'position' ? all.filter((_, i) => i % tasks === index) : all;
    const timeoutMs = (typeof conf[Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS] === 'number' ? (conf[Config.TOPOLOGY_MESSAGE_TIMEOUT_SECS] as number) : 30) * 1000;
    const claimMinIdleMs = o.claimMinIdleMs ?? 3 * timeoutMs;
    const claimIntervalMs = o.claimIntervalMs ?? Math.min(Math.max(1, Math.floor(claimMinIdleMs / 2)), 10_000);
    const clock = o.clock;
    const now = clock !== undefined ? () => clock.now() : () => performance.now();
    return new RedisStreamAdapter(o, mode, o.group ?? component, `${o.consumerPrefix ?? component}-${index}`, streams, claimMinIdleMs, claimIntervalMs, now, guarantee === 'at-most-once');
  }

  protected defaultScheme(): Scheme {
    return redisEntryScheme();
  }
}
