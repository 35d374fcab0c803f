/**
 * Drives a connector spout against a real server without a worker: the executor's part (calling
 * `nextTuple`, honouring max spout pending, handing acks and fails back) on real time, with a
 * recording collector. Tests choose what happens to each emitted tuple.
 */
import { type ISpout, type TopologyConfig } from '../../../topology-api';
import { fakeContext, RecordingSpoutCollector, type Emitted } from '../../unit/connectors/helpers';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Settles as `work` does, or rejects naming `what` after `timeoutMs`: an await that cannot hang. */
export async function within<T>(what: string, work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns something truthy; named and bounded (a check that hangs included). */
export async function until<T>(what: string, check: () => T | undefined | null | false | Promise<T | undefined | null | false>, timeoutMs = 15_000, pollMs = 20): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await within(what, Promise.resolve(check()), Math.max(1, deadline - performance.now()));
      if (v !== undefined && v !== null && v !== false) return v;
      last = null;
    } catch (err) {
      last = err;
    }
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
    await sleep(pollMs);
  }
}

export type Verdict = 'ack' | 'fail' | 'hold';

/** A spout task as an executor runs it: nextTuple while under max pending, acks and fails routed back. */
export class SpoutDriver<S extends ISpout> {
  readonly collector = new RecordingSpoutCollector();
  /** Tracked tuples emitted and not yet acked or failed. */
  readonly pending = new Set<unknown>();
  /** Emitted on the default stream (every emit, replays included), in order. */
  readonly emitted: Emitted[] = [];
  readonly deadLetters: Emitted[] = [];
  maxPendingSeen = 0;
  private timer: NodeJS.Timeout | null = null;
  private seen = 0;

  constructor(
    readonly spout: S,
    private readonly conf: TopologyConfig,
    /** What happens to each tuple right after it is emitted. */
    private readonly verdict: (e: Emitted) => Verdict = () => 'ack',
    taskIndex = 0,
    tasks = 1,
  ) {
    spout.open(Object.freeze({ 'topology.name': 'conn-test', ...conf }), fakeContext(taskIndex, tasks), this.collector);
    spout.activate?.();
  }

  start(): this {
    const maxPending = typeof this.conf['topology.max.spout.pending'] === 'number' ? (this.conf['topology.max.spout.pending'] as number) : Infinity;
    const turn = (): void => {
      for (let i = 0; i < 128 && this.pending.size < maxPending; i++) {
        const before = this.collector.emitted.length;
        this.spout.nextTuple();
        if (this.collector.emitted.length === before) break;
      }
      this.route();
      this.timer = setTimeout(turn, 1);
    };
    this.timer = setTimeout(turn, 0);
    return this;
  }

  private route(): void {
    const all = this.collector.emitted;
    for (; this.seen < all.length; this.seen++) {
      const e = all[this.seen];
      if (e.stream === 'deadletter') this.deadLetters.push(e);
      else this.emitted.push(e);
      if (e.msgId === null) continue;
      const v = e.stream === 'deadletter' ? 'ack' : this.verdict(e);
      if (v === 'ack') this.spout.ack?.(e.msgId);
      else if (v === 'fail') this.spout.fail?.(e.msgId);
      else {
        this.pending.add(e.msgId);
        this.maxPendingSeen = Math.max(this.maxPendingSeen, this.pending.size);
      }
    }
  }

  /** Acks (or fails) tuples a 'hold' verdict kept. */
  settleHeld(how: 'ack' | 'fail', filter: (msgId: unknown) => boolean = () => true): number {
    let n = 0;
    for (const id of [...this.pending]) {
      if (!filter(id)) continue;
      this.pending.delete(id);
      if (how === 'ack') this.spout.ack?.(id);
      else this.spout.fail?.(id);
      n++;
    }
    return n;
  }

  /** Payloads emitted so far (first value of each default-stream tuple) as text. */
  texts(): string[] {
    return this.emitted.map((e) => textOf(e.values[0]));
  }

  codes(): string[] {
    return this.collector.codes();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.spout.deactivate?.();
    await (this.spout.close?.() as unknown as Promise<void> | undefined);
  }
}

export function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
  return JSON.stringify(v);
}

/** Distinct values and how many were seen more than once. */
export function tally(xs: readonly string[]): { distinct: Set<string>; duplicates: number } {
  const distinct = new Set(xs);
  return { distinct, duplicates: xs.length - distinct.size };
}
