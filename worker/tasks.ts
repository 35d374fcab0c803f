import { Fields, TupleImpl, type IBolt, type ISpout, type MaybePromise, type OutputCollector, type SpoutOutputCollector, type Tuple, type TopologyConfig } from '../topology-api';
import { squallError } from '../common/errors';
import { ASYNC_TIMEOUT_BUCKETS, AsyncCalls, CallState, HELD_ACK, HELD_FAIL, asyncSettings, type AsyncCall } from './async-calls';
import type { Random } from '../common/random';
import { AckKind } from './queues';
import { RootTable } from './root-table';
import { checkEmit, undeclaredStream, type Delivery, type OutStream } from './routing';
import type { ExecutorStatsCollector } from './stats';
import type { TaskContext } from './context';
import { streamKey, type TopologyLayout } from '../common/topology-layout';

export const hrNow: () => number = () => performance.now();

/** What a task needs from its worker besides delivery. */
export interface TaskHost {
  readonly delivery: Delivery;
  readonly layout: TopologyLayout;
  /** A tuple on a system stream (SYSTEM_STREAMS) arrived for `task`: handed to its stream's handler. */
  systemTuple(task: BoltTask, tuple: TupleImpl): void;
  readonly random: Random;
  /** Acking is on (topology.acker.executors > 0). */
  readonly tracking: boolean;
  reportError(component: string, task: number, err: unknown): void;
  debugEmit(component: string, task: number, stream: string, values: unknown[]): void;
  readonly debug: boolean;
  /** Makes sure a loop turn is coming: async work settled outside one and freed room or input. */
  wake(): void;
  /** A task's first promise: from now on `task.rotateAsync()` runs every `timeoutMs / (ASYNC_TIMEOUT_BUCKETS - 1)`. */
  asyncStarted(task: AsyncTask, timeoutMs: number): void;
  isClosed(): boolean;
}

/** A task that has had a promise from user code: its async timeouts rotate with the worker's timer. */
export interface AsyncTask {
  rotateAsync(): void;
}

/** One check of a user callback's return value: nothing is allocated when it is not a promise. */
export function isPromise(r: MaybePromise | unknown): r is PromiseLike<void> {
  return r !== undefined && r !== null && typeof (r as PromiseLike<void>).then === 'function';
}


/** Fields shared by spout and bolt tasks: output streams and emit checks. */
abstract class TaskBase {
  protected readonly defaultOut: OutStream | undefined;

  constructor(
    readonly taskId: number,
    readonly component: string,
    protected readonly host: TaskHost,
    protected readonly outs: ReadonlyMap<string, OutStream>,
    protected readonly stats: ExecutorStatsCollector,
    readonly context: TaskContext,
    readonly conf: Readonly<TopologyConfig>,
  ) {
    this.defaultOut = outs.get('default');
  }

  protected out(streamId: string | undefined): OutStream {
    const out = streamId === undefined ? this.defaultOut : this.outs.get(streamId);
    if (out === undefined) throw undeclaredStream(this.component, streamId ?? 'default', [...this.outs.keys()]);
    return out;
  }

  protected checkDirectTarget(out: OutStream, taskId: number): void {
    if (!out.directTasks.has(taskId)) {
      throw squallError('ERR_EMIT_DIRECT_INVALID', `component "${this.component}" emitted directly to task ${taskId}, which does not subscribe to stream "${out.id}" with directGrouping`);
    }
  }

  reportError(err: unknown): void {
    this.host.reportError(this.component, this.taskId, err);
  }

  /** Every task of every bolt subscribed to any of this task's streams, ascending. */
  downstreamTasks(): number[] {
    const tasks = new Set<number>();
    for (const out of this.outs.values()) for (const s of out.subscriptions) for (const t of s.tasks) tasks.add(t);
    return [...tasks].sort((a, b) => a - b);
  }

  /**
   * Sends a tuple on a system stream (SYSTEM_STREAMS: a watermark, a checkpoint barrier) to each
   * of `tasks`, through the same inboxes and links as this task's data, so it arrives after
   * everything this task emitted before it. Untracked; not counted in the emit stats.
   */
  emitSystem(streamId: string, values: unknown[], tasks: readonly number[]): void {
    const layout = this.host.layout;
    const index = layout.streamIndex.get(streamKey(this.component, streamId));
    if (index === undefined || index < layout.systemStreamStart) throw squallError('ERR_INTERNAL', `"${streamId}" is not a system stream`);
    const info = layout.streams[index];
    if (values.length !== info.fields.length) throw squallError('ERR_INTERNAL', `system stream "${streamId}" has ${info.fields.length} field(s), got ${values.length}`);
    let fields = this.systemFields.get(index);
    if (fields === undefined) {
      fields = new Fields(info.fields);
      this.systemFields.set(index, fields);
    }
    for (const task of tasks) {
      const tuple = new TupleImpl(values, fields, this.component, this.taskId, streamId, 0, 0, 0, null);
      tuple.streamIndex = index;
      this.host.delivery.sendTuple(task, tuple);
    }
  }

  private readonly systemFields = new Map<number, Fields>();
}

/**
 * A bolt task: its instance, and the OutputCollector it was prepared with (the task itself, to
 * avoid a second object and an indirection per emit).
 *
 * An execute that returns a promise is an async call (worker/async-calls.ts): it counts against
 * `topology.bolt.max.inflight` until it settles; a rejection fails the input and reports the
 * error; one pending past `topology.async.timeout.secs` fails the input and a later settlement is
 * ignored. In ordered mode (`topology.bolt.async.ordered`) what each input produces — emits
 * anchored to it, its ack or fail — leaves in input order: an input's output waits, held in its
 * call, while an earlier input's call is unfinished.
 */
export class BoltTask extends TaskBase implements OutputCollector {
  bolt!: IBolt;
  /** The tuple whose execute is running, for process latency (acked during its own execute). */
  private current: TupleImpl | null = null;
  /** Stream indexes from here up to (not including) the tick index are system streams. */
  private readonly systemStart = this.host.layout.systemStreamStart;
  private readonly tickIndex = this.host.layout.streams.length;
  private readonly settings = asyncSettings(this.conf);
  private readonly ordered = this.settings.ordered;
  /** Unfinished calls: promises pending, and (ordered mode) calls whose output is still held. */
  inflight = 0;
  /** The executor gives this task input only while `inflight < admitLimit`: the in-flight limit, or 0 while a drain is awaited. */
  admitLimit = this.settings.maxInflight;
  private readonly calls = new AsyncCalls((call) => this.timedOut(call));
  private drainWaiters: Array<() => void> | null = null;
  private asyncStarted = false;

  execute(tuple: TupleImpl): void {
    const si = tuple.streamIndex;
    if (si >= this.systemStart && si < this.tickIndex) {
      this.host.systemTuple(this, tuple);
      return;
    }
    this.current = tuple;
    if (this.ordered) this.executeOrdered(tuple);
    else {
      const result = this.call(tuple);
      // the synchronous path pays this one comparison
      if (result !== undefined && isPromise(result)) this.track(this.open(tuple), result);
    }
    this.current = null;
    this.stats.executed[si]++;
  }

  /** The user's execute; a throw fails the input and is reported. */
  private call(tuple: TupleImpl): MaybePromise {
    try {
      return this.bolt.execute(tuple);
    } catch (err) {
      this.reportError(err);
      if (tuple.done === 0) this.fail(tuple);
      return undefined;
    }
  }

  /** Ordered mode: an input executed while an earlier one is unfinished queues behind it from its first emit. */
  private executeOrdered(tuple: TupleImpl): void {
    const queued = this.inflight > 0 ? this.open(tuple) : null;
    const result = this.call(tuple);
    if (isPromise(result)) this.track(queued ?? this.open(tuple), result);
    else if (queued !== null) queued.state = CallState.Settled; // released when the calls before it are
  }

  /**
   * A tuple the checkpoint gate (worker/checkpoint) holds back while aligning a barrier is
   * counted when it runs, through `execute` again, not when it was held.
   */
  uncount(tuple: TupleImpl): void {
    this.stats.executed[tuple.streamIndex]--;
  }

  // ---- async calls ----------------------------------------------------------------------------

  /** Executions not finished: promises not settled, and (ordered mode) calls whose output is held. */
  inFlight(): number {
    return this.inflight;
  }

  /**
   * Calls `cb` once nothing is in flight: at once when nothing is. Until then the task takes no
   * more input (so in-flight work drains under a steady input, as a checkpoint barrier needs), and
   * `cb` runs right after the last call finishes, before the task takes input again.
   */
  onDrained(cb: () => void): void {
    if (this.inflight === 0) {
      cb();
      return;
    }
    (this.drainWaiters ??= []).push(cb);
    this.admitLimit = 0;
  }

  /** Expires the oldest timeout bucket (the worker's async timer). */
  rotateAsync(): void {
    this.calls.rotate();
  }

  private open(tuple: TupleImpl): AsyncCall {
    if (!this.asyncStarted) {
      this.asyncStarted = true;
      this.stats.asyncSeen = true;
      this.host.asyncStarted(this, this.settings.timeoutMs);
    }
    this.inflight++;
    this.stats.inflight++;
    return this.calls.open(tuple, this.ordered);
  }

  private track(call: AsyncCall, promise: PromiseLike<void>): void {
    call.returnedMs = hrNow();
    this.calls.time(call);
    promise.then(
      () => this.settle(call, false, undefined),
      (err: unknown) => this.settle(call, true, err),
    );
  }

  private settle(call: AsyncCall, rejected: boolean, err: unknown): void {
    if (call.state !== CallState.Pending || this.host.isClosed()) return; // timed out already: ignored
    call.state = CallState.Settled;
    this.calls.untime(call);
    this.stats.addAsync(hrNow() - call.returnedMs, this.settings.maxInflight);
    try {
      if (rejected) {
        this.reportError(err);
        this.fail(call.tuple);
      }
    } finally {
      this.finish(call);
    }
  }

  private timedOut(call: AsyncCall): void {
    if (call.state !== CallState.Pending) return;
    call.state = CallState.TimedOut;
    this.stats.asyncTimedOut++;
    this.stats.addAsync(hrNow() - call.returnedMs, this.settings.maxInflight);
    const secs = this.settings.timeoutMs / 1000;
    this.reportError(squallError('ERR_ASYNC_TIMEOUT', `the promise execute returned for a tuple from "${call.tuple.sourceComponent}" did not settle within ${secs} s (topology.async.timeout.secs); the input is failed`));
    try {
      this.fail(call.tuple);
    } finally {
      this.finish(call);
    }
  }

  /** A call settled or timed out: unordered, it is done; ordered, it is done once every call before it is. */
  private finish(call: AsyncCall): void {
    if (!this.ordered) {
      this.retire(call);
      return;
    }
    for (let first = this.calls.first(); first !== undefined && first.state !== CallState.Pending; first = this.calls.first()) {
      this.calls.shift();
      this.release(first);
      this.retire(first);
    }
    // the new first call's held output goes now, and what it produces from now on goes at once
    const first = this.calls.first();
    if (first !== undefined) this.release(first);
  }

  private retire(call: AsyncCall): void {
    this.calls.forget(call);
    this.inflight--;
    this.stats.inflight--;
    if (this.inflight === 0 && this.drainWaiters !== null) this.drained();
    this.host.wake();
  }

  private drained(): void {
    const waiters = this.drainWaiters!;
    this.drainWaiters = null;
    this.admitLimit = this.settings.maxInflight;
    for (const cb of waiters) {
      try {
        cb();
      } catch (err) {
        this.reportError(err);
      }
    }
  }

  /** Sends what a call held back (ordered mode), in the order it was made. */
  private release(call: AsyncCall): void {
    const held = call.held;
    if (held === null) return;
    call.held = null;
    for (let i = 0; i < held.length; i += 2) {
      const what = held[i] as number;
      const t = held[i + 1] as TupleImpl;
      if (what === HELD_ACK) this.sendAck(t);
      else if (what === HELD_FAIL) this.sendFail(t);
      else this.host.delivery.sendTuple(what, t);
    }
  }

  /**
   * Ordered mode: the unfinished call whose output anything anchored to `anchors` must wait
   * behind (the latest of the anchors' calls), or null when it may go now. Unanchored output
   * belongs to no input and goes at once.
   */
  private holdFor(anchors: Tuple | readonly Tuple[]): AsyncCall | null {
    let call: AsyncCall | undefined;
    if (!Array.isArray(anchors)) call = this.calls.of(anchors as TupleImpl);
    else {
      for (const a of anchors as readonly TupleImpl[]) {
        const c = this.calls.of(a);
        if (c !== undefined && (call === undefined || c.seq > call.seq)) call = c;
      }
    }
    return call === undefined || call === this.calls.first() ? null : call;
  }

  // ---- OutputCollector ------------------------------------------------------------------------

  emit(values: unknown[], anchors?: Tuple | readonly Tuple[] | null, streamId?: string): number[] {
    const out = this.out(streamId);
    checkEmit(this.component, out, values, false);
    const hold = anchors && this.ordered && this.inflight > 0 ? this.holdFor(anchors) : null;
    const sent: number[] = [];
    const subs = out.subscriptions;
    for (let i = 0; i < subs.length; i++) {
      const g = subs[i].grouper;
      if (g === null) continue;
      if (g.single) {
        const t = g.choose(values);
        this.deliver(t, out, values, anchors, hold);
        sent.push(t);
      } else {
        const tasks = g.chooseMany(values);
        for (let k = 0; k < tasks.length; k++) {
          this.deliver(tasks[k], out, values, anchors, hold);
          sent.push(tasks[k]);
        }
      }
    }
    this.stats.emitted[out.index]++;
    this.stats.transferred[out.index] += sent.length;
    if (this.host.debug) this.host.debugEmit(this.component, this.taskId, out.id, values);
    return sent;
  }

  emitDirect(taskId: number, values: unknown[], anchors?: Tuple | readonly Tuple[] | null, streamId?: string): void {
    const out = this.out(streamId);
    checkEmit(this.component, out, values, true);
    this.checkDirectTarget(out, taskId);
    this.deliver(taskId, out, values, anchors, anchors && this.ordered && this.inflight > 0 ? this.holdFor(anchors) : null);
    this.stats.emitted[out.index]++;
    this.stats.transferred[out.index]++;
    if (this.host.debug) this.host.debugEmit(this.component, this.taskId, out.id, values);
  }

  /**
   * Storm's anchoring: for every anchor that belongs to a tree, a fresh 64-bit edge id is XORed
   * into the anchor's ack value and into the new tuple's id for each of the anchor's roots. The
   * tuple is sent, or held by `hold` (ordered mode) until the calls before it finish; its anchors'
   * acks are held behind it, so the tree cannot complete early.
   */
  private deliver(task: number, out: OutStream, values: unknown[], anchors: Tuple | readonly Tuple[] | null | undefined, hold: AsyncCall | null): void {
    let r0 = 0;
    let h0 = 0;
    let l0 = 0;
    let more: number[] | null = null;
    if (anchors && this.host.tracking) {
      const random = this.host.random;
      if (!Array.isArray(anchors)) {
        const a = anchors as TupleImpl;
        if (a.root0) {
          const eh = random.next32();
          const el = random.next32();
          a.ackHi ^= eh;
          a.ackLo ^= el;
          r0 = a.root0;
          h0 = eh;
          l0 = el;
          const am = a.moreAnchors;
          if (am !== null) {
            more = [];
            for (let i = 0; i < am.length; i += 3) more.push(am[i], eh, el);
          }
        }
      } else {
        const ids = new Map<number, [number, number]>();
        for (const anchor of anchors as readonly TupleImpl[]) {
          if (!anchor.root0) continue;
          const eh = random.next32();
          const el = random.next32();
          anchor.ackHi ^= eh;
          anchor.ackLo ^= el;
          xorInto(ids, anchor.root0, eh, el);
          const am = anchor.moreAnchors;
          if (am !== null) for (let i = 0; i < am.length; i += 3) xorInto(ids, am[i], eh, el);
        }
        for (const [root, [hi, lo]] of ids) {
          if (r0 === 0) {
            r0 = root;
            h0 = hi;
            l0 = lo;
          } else (more ??= []).push(root, hi, lo);
        }
      }
    }
    const tuple = new TupleImpl(values, out.fields, this.component, this.taskId, out.id, r0, h0, l0, more);
    tuple.streamIndex = out.index;
    if (hold === null) this.host.delivery.sendTuple(task, tuple);
    else hold.hold(task, tuple);
  }

  ack(input: Tuple): void {
    const t = input as TupleImpl;
    if (t.done !== 0) return; // a second ack or fail would corrupt the tree's XOR
    t.done = 1;
    const hold = this.ordered && this.inflight > 0 ? this.holdFor(t) : null;
    if (hold === null) this.sendAck(t);
    else hold.hold(HELD_ACK, t);
  }

  /**
   * Where this task's acks go; a stateful bolt under at-least-once defers them to the commit of
   * their checkpoint (worker/checkpoint/deferred-acks.ts). Null: straight to the ackers.
   */
  ackDelivery: Pick<Delivery, 'sendAck' | 'ackerFor'> | null = null;

  private sendAck(t: TupleImpl): void {
    if (t.root0 && this.host.tracking) {
      const d = this.ackDelivery ?? this.host.delivery;
      d.sendAck(AckKind.Ack, d.ackerFor(t.root0), t.root0, t.edgeHi0 ^ t.ackHi, t.edgeLo0 ^ t.ackLo, 0);
      const m = t.moreAnchors;
      if (m !== null) for (let i = 0; i < m.length; i += 3) d.sendAck(AckKind.Ack, d.ackerFor(m[i]), m[i], m[i + 1] ^ t.ackHi, m[i + 2] ^ t.ackLo, 0);
    }
    this.countDone(t, this.stats.acked);
  }

  fail(input: Tuple): void {
    const t = input as TupleImpl;
    if (t.done !== 0) return;
    t.done = 2;
    const hold = this.ordered && this.inflight > 0 ? this.holdFor(t) : null;
    if (hold === null) this.sendFail(t);
    else hold.hold(HELD_FAIL, t);
  }

  private sendFail(t: TupleImpl): void {
    if (t.root0 && this.host.tracking) {
      const d = this.host.delivery;
      d.sendAck(AckKind.Fail, d.ackerFor(t.root0), t.root0, 0, 0, 0);
      const m = t.moreAnchors;
      if (m !== null) for (let i = 0; i < m.length; i += 3) d.sendAck(AckKind.Fail, d.ackerFor(m[i]), m[i], 0, 0, 0);
    }
    this.countDone(t, this.stats.failed);
  }

  /** Restarts the message timeout of the input's roots, and the async timeout of its pending call. */
  resetTimeout(input: Tuple): void {
    const t = input as TupleImpl;
    if (this.inflight > 0) {
      const call = this.calls.of(t);
      if (call !== undefined && call.state === CallState.Pending) this.calls.time(call);
    }
    if (!t.root0 || !this.host.tracking) return;
    const d = this.host.delivery;
    d.sendAck(AckKind.Reset, d.ackerFor(t.root0), t.root0, 0, 0, 0);
    const m = t.moreAnchors;
    if (m !== null) for (let i = 0; i < m.length; i += 3) d.sendAck(AckKind.Reset, d.ackerFor(m[i]), m[i], 0, 0, 0);
  }

  /**
   * Process latency: a tuple acked inside its own execute is charged that execute's share of the
   * batch time (measured by the executor); one acked later is charged the time since it was
   * dequeued, read from the clock only then.
   */
  private countDone(t: TupleImpl, counts: Float64Array): void {
    counts[t.streamIndex]++;
    if (t !== this.current && t.startMs > 0) {
      this.stats.processMsTotal += hrNow() - t.startMs;
      this.stats.processCount++;
    }
  }
}

function xorInto(ids: Map<number, [number, number]>, root: number, hi: number, lo: number): void {
  const cur = ids.get(root);
  if (cur) {
    cur[0] ^= hi;
    cur[1] ^= lo;
  } else ids.set(root, [hi, lo]);
}

/**
 * Tracked spout tuples waiting for their trees, by root id: message id, stream and emit time.
 * Expire after the message timeout, when the spout fails them.
 */
class PendingTuples extends RootTable {
  msgIds: unknown[] = [];
  streams = new Int32Array(0);
  emittedMs = new Float64Array(0);
  private old: [unknown[], Int32Array, Float64Array] = [this.msgIds, this.streams, this.emittedMs];

  constructor(
    buckets: number,
    private readonly onExpire: (msgId: unknown, streamIndex: number) => void,
  ) {
    super(buckets, 256);
    this.allocate(this.capacity());
  }

  add(root: number, msgId: unknown, streamIndex: number, emittedMs: number): void {
    const s = this.upsert(root);
    if (!this.inserted) this.touch(s);
    this.msgIds[s] = msgId;
    this.streams[s] = streamIndex;
    this.emittedMs[s] = emittedMs;
  }

  /** Fails what timed out: the oldest generation expires. */
  rotate(): number {
    const expired: unknown[] = [];
    const n = this.rotateWith((s) => expired.push(this.msgIds[s], this.streams[s]));
    for (let i = 0; i < expired.length; i += 2) this.onExpire(expired[i], expired[i + 1] as number);
    return n;
  }

  protected allocate(n: number): void {
    this.msgIds = new Array<unknown>(n).fill(undefined);
    this.streams = new Int32Array(n);
    this.emittedMs = new Float64Array(n);
  }
  protected stash(): void {
    this.old = [this.msgIds, this.streams, this.emittedMs];
  }
  protected carry(from: number, to: number): void {
    this.msgIds[to] = this.old[0][from];
    this.streams[to] = this.old[1][from];
    this.emittedMs[to] = this.old[2][from];
  }
  protected move(from: number, to: number): void {
    this.msgIds[to] = this.msgIds[from];
    this.streams[to] = this.streams[from];
    this.emittedMs[to] = this.emittedMs[from];
  }
  protected release(slot: number): void {
    this.msgIds[slot] = undefined;
  }
}

/**
 * A spout task: its instance, its SpoutOutputCollector (itself) and its pending tuples.
 *
 * A `nextTuple` that returns a promise: the task is not called again until it settles (or, pending
 * past `topology.async.timeout.secs`, is reported and given up on). Promises from ack, fail and
 * the lifecycle calls are not waited for: acks must always flow; their rejections are reported.
 */
export class SpoutTask extends TaskBase implements SpoutOutputCollector {
  spout!: ISpout;
  /** A promise from nextTuple is pending: the executor does not call nextTuple on this task. */
  waiting = false;
  /** Identifies the pending nextTuple promise; a stale one's settlement is ignored. */
  private waitToken = 0;
  /** Async-timeout rotations since the pending promise was returned. */
  private waitRotations = 0;
  private asyncStarted = false;
  /** Tracked tuples by root id; expire after the message timeout (then `fail` is called). */
  readonly pending: PendingTuples;
  /** Message ids to ack at once because acking is off: [msgId, streamIndex] pairs. */
  private immediateAcks: unknown[] = [];
  /** Emits during the current nextTuple call (to tell an idle spout). */
  emitsThisCall = 0;
  /** Emit time set by the executor for a batch of calls (see SpoutExecutor); -1 outside one. */
  stampMs = -1;
  /** Root ids: a random 21-bit prefix (0 until the first) over a counter from a random start. */
  private rootHi = 0;
  private rootLo = 0;

  constructor(
    taskId: number,
    component: string,
    host: TaskHost,
    outs: ReadonlyMap<string, OutStream>,
    stats: ExecutorStatsCollector,
    context: TaskContext,
    conf: Readonly<TopologyConfig>,
    buckets: number,
  ) {
    super(taskId, component, host, outs, stats, context, conf);
    this.pending = new PendingTuples(buckets, (msgId, streamIndex) => this.timedOut(msgId, streamIndex));
  }

  emit(values: unknown[], messageId?: unknown, streamId?: string): number[] {
    const out = this.out(streamId);
    checkEmit(this.component, out, values, false);
    const tracked = messageId !== undefined && messageId !== null;
    const sent: number[] = [];
    const root = tracked && this.host.tracking ? this.nextRoot() : 0;
    let xh = 0;
    let xl = 0;
    const subs = out.subscriptions;
    for (let i = 0; i < subs.length; i++) {
      const g = subs[i].grouper;
      if (g === null) continue;
      if (g.single) {
        const t = g.choose(values);
        if (root !== 0) {
          const eh = this.host.random.next32();
          const el = this.host.random.next32();
          xh ^= eh;
          xl ^= el;
          this.send(t, out, values, root, eh, el);
        } else this.send(t, out, values, 0, 0, 0);
        sent.push(t);
      } else {
        const tasks = g.chooseMany(values);
        for (let k = 0; k < tasks.length; k++) {
          if (root !== 0) {
            const eh = this.host.random.next32();
            const el = this.host.random.next32();
            xh ^= eh;
            xl ^= el;
            this.send(tasks[k], out, values, root, eh, el);
          } else this.send(tasks[k], out, values, 0, 0, 0);
          sent.push(tasks[k]);
        }
      }
    }
    this.afterEmit(out, messageId, tracked, root, xh, xl, sent.length);
    return sent;
  }

  emitDirect(taskId: number, values: unknown[], messageId?: unknown, streamId?: string): void {
    const out = this.out(streamId);
    checkEmit(this.component, out, values, true);
    this.checkDirectTarget(out, taskId);
    const tracked = messageId !== undefined && messageId !== null;
    const root = tracked && this.host.tracking ? this.nextRoot() : 0;
    const eh = root !== 0 ? this.host.random.next32() : 0;
    const el = root !== 0 ? this.host.random.next32() : 0;
    this.send(taskId, out, values, root, eh, el);
    this.afterEmit(out, messageId, tracked, root, eh, el, 1);
  }

  /**
   * The next root id: consecutive within a random prefix, not random per tuple as in Storm. Trees
   * are mostly settled in the order they were emitted, so consecutive ids let the root tables
   * (this task's pending tuples, the acker's ledger) touch neighbouring slots instead of a random
   * cache line per tree (worker/root-table.ts keeps runs of 16 ids together). The random prefix and
   * start keep ids of different tasks, and of a restarted task, apart as random ids would; ids are
   * below 2^53 and never 0.
   */
  private nextRoot(): number {
    if (this.rootHi === 0 || this.rootLo === 0xffffffff) {
      const random = this.host.random;
      this.rootHi = (random.next32() & 0x1fffff) || 1;
      this.rootLo = random.next32() >>> 0;
    } else this.rootLo++;
    return this.rootHi * 4294967296 + this.rootLo;
  }

  private send(task: number, out: OutStream, values: unknown[], root: number, eh: number, el: number): void {
    const tuple = new TupleImpl(values, out.fields, this.component, this.taskId, out.id, root, eh, el, null);
    tuple.streamIndex = out.index;
    this.host.delivery.sendTuple(task, tuple);
  }

  private afterEmit(out: OutStream, messageId: unknown, tracked: boolean, root: number, xh: number, xl: number, transferred: number): void {
    this.emitsThisCall++;
    this.stats.emitted[out.index]++;
    this.stats.transferred[out.index] += transferred;
    if (this.host.debug) this.host.debugEmit(this.component, this.taskId, out.id, []);
    if (!tracked) return;
    if (root === 0) {
      this.immediateAcks.push(messageId, out.index);
      return;
    }
    this.pending.add(root, messageId, out.index, this.stampMs >= 0 ? this.stampMs : hrNow());
    const d = this.host.delivery;
    d.sendAck(AckKind.Init, d.ackerFor(root), root, xh, xl, this.taskId);
  }

  getPendingCount(): number {
    return this.pending.size();
  }

  /** Calls `nextTuple` once, then any acks owed because acking is off. */
  nextTuple(): void {
    this.emitsThisCall = 0;
    let result: MaybePromise = undefined;
    try {
      result = this.spout.nextTuple();
    } catch (err) {
      this.reportError(err);
    }
    if (result !== undefined && isPromise(result)) this.wait(result);
    if (this.immediateAcks.length > 0) this.flushImmediateAcks();
  }

  private wait(promise: PromiseLike<void>): void {
    if (!this.asyncStarted) {
      this.asyncStarted = true;
      this.host.asyncStarted(this, asyncSettings(this.conf).timeoutMs);
    }
    this.waiting = true;
    this.waitRotations = 0;
    const token = ++this.waitToken;
    promise.then(
      () => this.resume(token, false, undefined),
      (err: unknown) => this.resume(token, true, err),
    );
  }

  private resume(token: number, rejected: boolean, err: unknown): void {
    if (token !== this.waitToken || !this.waiting || this.host.isClosed()) return; // timed out: ignored
    this.waiting = false;
    if (rejected) this.reportError(err);
    if (this.immediateAcks.length > 0) this.flushImmediateAcks();
    this.host.wake();
  }

  /** Gives up on a nextTuple promise pending for a whole async timeout (the worker's async timer). */
  rotateAsync(): void {
    if (!this.waiting || ++this.waitRotations < ASYNC_TIMEOUT_BUCKETS) return;
    this.waiting = false;
    this.waitToken++;
    const secs = asyncSettings(this.conf).timeoutMs / 1000;
    this.reportError(squallError('ERR_ASYNC_TIMEOUT', `the promise nextTuple returned did not settle within ${secs} s (topology.async.timeout.secs); nextTuple is called again`));
    this.host.wake();
  }

  private flushImmediateAcks(): void {
    const acks = this.immediateAcks;
    this.immediateAcks = [];
    for (let i = 0; i < acks.length; i += 2) {
      this.stats.acked[acks[i + 1] as number]++;
      this.callUser('ack', acks[i]);
    }
  }

  /** The acker says the tree of `root` completed (or failed), at `nowMs`. */
  completed(root: number, ok: boolean, nowMs: number): void {
    const p = this.pending;
    const s = p.find(root);
    if (s < 0) return; // already timed out and failed
    const msgId = p.msgIds[s];
    const streamIndex = p.streams[s];
    const emittedMs = p.emittedMs[s];
    p.removeAt(s);
    if (ok) {
      const ms = nowMs - emittedMs;
      this.stats.acked[streamIndex]++;
      this.stats.completeMsTotal += ms;
      this.stats.complete.recordMs(ms);
      this.callUser('ack', msgId);
    } else {
      this.stats.failed[streamIndex]++;
      this.callUser('fail', msgId);
    }
  }

  resetPending(root: number): void {
    const s = this.pending.find(root);
    if (s >= 0) this.pending.touch(s);
  }

  private timedOut(msgId: unknown, streamIndex: number): void {
    this.stats.failed[streamIndex]++;
    this.callUser('fail', msgId);
  }

  /** Calls the spout; a promise it returns is not waited for, but its rejection is reported. */
  callUser(method: 'ack' | 'fail' | 'activate' | 'deactivate' | 'close', arg?: unknown): void {
    try {
      const result = this.spout[method]?.(arg);
      if (isPromise(result)) result.then(undefined, (err: unknown) => this.reportError(err));
    } catch (err) {
      this.reportError(err);
    }
  }
}
