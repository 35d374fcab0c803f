import type { Fields, TupleImpl } from '../topology-api';
import { silentLogger, type Logger } from '../common/logging';
import type { TopologyLayout } from '../common/topology-layout';
import type { Backpressured } from './routing';
import type { RemoteLinks } from './runtime';
import { buildStreamTable, type ControlMessage } from './transport/codec';
import type { Outbox } from './transport/outbox';
import type { LinkReceiver, PeerAddress, Transport } from './transport/types';

/** What the router needs from the worker runtime (WorkerRuntime satisfies it). */
export interface RuntimeReceiver extends LinkReceiver {
  readonly layout: TopologyLayout;
  owns(task: number): boolean;
  fieldsOf(streamIndex: number): { fields: Fields; component: string; stream: string } | undefined;
  /** Makes sure a loop turn is coming (parked emitters may run again). */
  wake(): void;
}

/** The worker running a task according to the current assignment; undefined while unknown. */
export type TaskWorker = (task: number) => string | undefined;

export interface RemoteRouterOptions {
  transport: Transport;
  taskWorker?: TaskWorker;
  /** Tuples held for tasks whose worker is unknown before their emitters are parked (default 1024). */
  pendingTuplesMax?: number;
  onControl?: (peer: string, message: ControlMessage) => void;
  logger?: Logger;
}

const PENDING_TUPLES_MAX_DEFAULT = 1024;

/**
 * The runtime's RemoteLinks: sends each tuple and acker message for a task in another worker to
 * that worker's outbox, following the assignment (`taskWorker`), which may change at any time.
 *
 * Wiring (in this order):
 *   const router = new RemoteRouter({ transport, taskWorker });
 *   const runtime = new WorkerRuntime({ ..., remote: router });
 *   router.attach(runtime);
 *   await transport.listen();
 *   router.updateAssignment(taskWorker, peers);   // again whenever the assignment changes
 *   runtime.start();
 *
 * Overflow rule of the pending buffer (tasks whose worker is not known yet, e.g. before the
 * first assignment arrives): it never drops. It accepts everything and reports the queues of
 * those tasks full once it holds `pendingTuplesMax` tuples, so their emitters park (one user
 * callback may overshoot, as with every queue). Acker messages are held too and never park
 * anyone. Everything held is sent, in order, as soon as the assignment names the worker; what
 * is still held at close() is counted and logged.
 */
export class RemoteRouter implements RemoteLinks {
  private readonly transport: Transport;
  private readonly logger: Logger;
  private readonly pendingTuplesMax: number;
  private readonly onControl?: (peer: string, message: ControlMessage) => void;
  private receiver: RuntimeReceiver | null = null;
  private taskWorker: TaskWorker;
  /** By task id: the outbox of its worker, when known. */
  private outboxOf: Array<Outbox | undefined> = [];
  /** By task id: the stable queue object the runtime got from queueFor (it caches them). */
  private readonly views: Array<RemoteTaskQueue | undefined> = [];
  private pendingTasks: number[] = [];
  private pendingTuples: TupleImpl[] = [];
  private pendingAcks: number[] = [];
  private closed = false;

  constructor(opts: RemoteRouterOptions) {
    this.transport = opts.transport;
    this.taskWorker = opts.taskWorker ?? (() => undefined);
    this.pendingTuplesMax = opts.pendingTuplesMax ?? PENDING_TUPLES_MAX_DEFAULT;
    this.onControl = opts.onControl;
    this.logger = (opts.logger ?? silentLogger()).child({ workerKey: opts.transport.workerKey });
  }

  /** Connects the transport's inbound side to the runtime; call once, before `transport.listen()`. */
  attach(receiver: RuntimeReceiver): void {
    this.receiver = receiver;
    // Acker messages never park anyone (a local acker queue is never full either). Were a remote
    // acker's queue reported full with its worker's outbox, a sink bolt acking into a worker
    // that waits on this one would park: two workers sending to each other deadlock.
    for (const task of receiver.layout.ackerTasks) (this.queueFor(task) as RemoteTaskQueue).acker = true;
    this.transport.attach({
      receiver,
      streams: buildStreamTable(receiver.layout, (i) => receiver.fieldsOf(i)),
      onWritable: () => receiver.wake(),
      onControl: this.onControl,
    });
    this.refresh();
  }

  /** A new assignment: peers to link to and the worker of every task. */
  updateAssignment(taskWorker: TaskWorker, peers: ReadonlyMap<string, PeerAddress>): void {
    this.transport.setPeers(peers);
    this.taskWorker = taskWorker;
    this.refresh();
  }

  setTaskWorker(taskWorker: TaskWorker): void {
    this.taskWorker = taskWorker;
    this.refresh();
  }

  /** Re-points the transport; use this rather than `transport.setPeers`, so routes follow. */
  setPeers(peers: ReadonlyMap<string, PeerAddress>): void {
    this.transport.setPeers(peers);
    this.refresh();
  }

  // ---- RemoteLinks --------------------------------------------------------------------------

  sendTuple(task: number, tuple: TupleImpl): void {
    const outbox = this.outboxOf[task];
    if (outbox !== undefined) outbox.addTuple(task, tuple);
    else this.hold(task, tuple);
  }

  sendAck(kind: number, destTask: number, root: number, hi: number, lo: number, spoutTask: number): void {
    const outbox = this.outboxOf[destTask];
    if (outbox !== undefined) outbox.addAck(kind, destTask, root, hi, lo, spoutTask);
    else {
      if (this.closed) return;
      this.pendingAcks.push(kind, destTask, root, hi, lo, spoutTask);
    }
  }

  queueFor(task: number): Backpressured {
    let view = this.views[task];
    if (view === undefined) {
      view = new RemoteTaskQueue(this);
      view.outbox = this.outboxOf[task] ?? null;
      this.views[task] = view;
    }
    return view;
  }

  /** The runtime's end of turn: sends every batch, then lets paused inbound links resume. */
  flush(): void {
    this.transport.flush();
    this.transport.afterTurn();
  }

  // ---- the pending buffer -------------------------------------------------------------------

  pendingFull(): boolean {
    return this.pendingTuples.length >= this.pendingTuplesMax;
  }

  pendingCounts(): { tuples: number; acks: number } {
    return { tuples: this.pendingTuples.length, acks: this.pendingAcks.length / 6 };
  }

  private hold(task: number, tuple: TupleImpl): void {
    if (this.closed) return;
    if (this.pendingTuples.length === 0) this.logger.info({ task }, 'holding tuples for tasks whose worker is not known yet');
    this.pendingTasks.push(task);
    this.pendingTuples.push(tuple);
  }

  /** Recomputes every task's outbox from the assignment and sends what was held, in order. */
  private refresh(): void {
    const self = this.transport.workerKey;
    const n = Math.max(this.receiver?.layout.taskComponent.length ?? 0, this.views.length);
    const outboxOf: Array<Outbox | undefined> = new Array(n);
    for (let task = 1; task < n; task++) {
      const key = this.taskWorker(task);
      if (key === undefined) continue;
      if (key === self) {
        if (this.receiver !== null && !this.receiver.owns(task)) this.logger.warn({ task }, `the assignment puts task ${task} here, but this worker does not run it`);
        continue;
      }
      outboxOf[task] = this.transport.outbox(key);
    }
    this.outboxOf = outboxOf;
    for (let task = 0; task < this.views.length; task++) {
      const view = this.views[task];
      if (view !== undefined) view.outbox = outboxOf[task] ?? null;
    }
    this.resend();
  }

  private resend(): void {
    if (this.pendingTuples.length === 0 && this.pendingAcks.length === 0) return;
    const tasks = this.pendingTasks;
    const tuples = this.pendingTuples;
    const acks = this.pendingAcks;
    this.pendingTasks = [];
    this.pendingTuples = [];
    this.pendingAcks = [];
    for (let i = 0; i < tuples.length; i++) this.sendTuple(tasks[i], tuples[i]);
    for (let i = 0; i < acks.length; i += 6) this.sendAck(acks[i], acks[i + 1], acks[i + 2], acks[i + 3], acks[i + 4], acks[i + 5]);
    if (this.pendingTuples.length < tuples.length) this.receiver?.wake();
  }

  /** Drops what is still held (counted and logged); the transport is closed by its owner. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const { tuples, acks } = this.pendingCounts();
    if (tuples + acks > 0) this.logger.warn({ tuples, acks, code: 'ERR_LINK_CLOSED' }, 'closing with tuples for tasks whose worker never became known');
    this.pendingTasks = [];
    this.pendingTuples = [];
    this.pendingAcks = [];
  }
}

/**
 * What the runtime's emitters check for one remote task. The runtime keeps these objects from
 * construction on, so the object stays and only its outbox follows the assignment.
 */
class RemoteTaskQueue implements Backpressured {
  outbox: Outbox | null = null;
  /** An `__acker` task: never full. */
  acker = false;

  constructor(private readonly router: RemoteRouter) {}

  isFull(): boolean {
    if (this.acker) return false;
    const o = this.outbox;
    return o !== null ? o.isFull() : this.router.pendingFull();
  }
}
