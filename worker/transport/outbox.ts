import type { Packr } from 'msgpackr';
import type { TupleImpl } from '../../topology-api';
import type { ErrorCode } from '../../common/errors';
import type { Logger } from '../../common/logging';
import type { Backpressured } from '../routing';
import { TupleBatch, createPackr, encodeControl, type ControlMessage } from './codec';

/** Where an outbox hands its frames: an open link (a websocket, or the in-memory twin's pipe). */
export interface FrameSink {
  /** Sends one frame; `done` runs once the frame has left this process, or the link failed. */
  send(frame: Buffer, done: () => void): void;
}

export interface OutboxOptions {
  /** The destination worker's key. */
  peer: string;
  /** `topology.transfer.batch.size`: a frame is sent as soon as this many tuples are batched. */
  batchSize: number;
  /** `topology.transfer.buffer.bytes`: bytes in flight or waiting before emitters are parked. */
  bufferBytes: number;
  frameBytesMax: number;
  /** Tuples held while the link is down before the outbox reports full (default: batchSize). */
  disconnectedTuplesMax?: number;
  /** Called when the outbox stops being full: the runtime must run its parked emitters. */
  onWritable: () => void;
  logger: Logger;
}

export interface OutboxStats {
  peer: string;
  connected: boolean;
  full: boolean;
  remoteBackpressure: boolean;
  framesSent: number;
  bytesSent: number;
  tuplesSent: number;
  acksSent: number;
  inflightBytes: number;
  pendingFrames: number;
  pendingBytes: number;
  pendingTuples: number;
  tuplesDropped: number;
}

/**
 * Tuples and acker messages for one destination worker, batched per loop turn: `flush()` (the
 * runtime calls it at the end of each turn) encodes everything batched into one TUPLES frame, and
 * a batch reaching `batchSize` tuples is sent at once.
 *
 * Overflow rules (nothing is refused here; the bound is what producers respect via `isFull()`,
 * checked before each user callback, so one callback's emits may overshoot it):
 * - the batch: at most `batchSize` tuples, then it is flushed. Acker records never park anyone
 *   (Storm's acks are not subject to backpressure); they are bounded by the tuples in flight.
 * - frames waiting for a link (`pending`, only while disconnected): full at
 *   `disconnectedTuplesMax` tuples or `bufferBytes` bytes; sent in order once the link opens,
 *   dropped (counted, logged) if the peer is removed.
 * - frames handed to the link and not yet written out (`inflightBytes`, what ws calls
 *   bufferedAmount): full past `bufferBytes`.
 * - the receiver's BACKPRESSURE on: full until it says off (or the link is replaced).
 */
export class Outbox implements Backpressured {
  readonly peer: string;
  private readonly packr: Packr = createPackr();
  private readonly batch = new TupleBatch();
  private readonly batchSize: number;
  private readonly bufferBytes: number;
  private readonly frameBytesMax: number;
  private readonly disconnectedTuplesMax: number;
  private readonly onWritable: () => void;
  private readonly logger: Logger;
  private sink: FrameSink | null = null;
  /** Bumped when the link changes, so completions of an old link's sends are ignored. */
  private generation = 0;
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingTuples = 0;
  private inflightBytes = 0;
  private remoteBackpressure = false;
  private full = false;
  private closed = false;
  private framesSent = 0;
  private bytesSent = 0;
  private tuplesSent = 0;
  private acksSent = 0;
  private tuplesDropped = 0;
  /** Codes already logged: one line per reason per outbox (a bug or misconfiguration, not traffic). */
  private readonly droppedLogged = new Set<ErrorCode>();

  constructor(opts: OutboxOptions) {
    this.peer = opts.peer;
    this.batchSize = opts.batchSize;
    this.bufferBytes = opts.bufferBytes;
    this.frameBytesMax = opts.frameBytesMax;
    this.disconnectedTuplesMax = opts.disconnectedTuplesMax ?? opts.batchSize;
    this.onWritable = opts.onWritable;
    this.logger = opts.logger;
  }

  /** Read per tuple by every emitter feeding this worker: a field, recomputed on each change. */
  isFull(): boolean {
    return this.full;
  }

  addTuple(destTask: number, tuple: TupleImpl): void {
    if (this.closed) return this.drop(1, 'ERR_LINK_CLOSED', 'the peer was removed');
    this.batch.addTuple(destTask, tuple);
    if (this.batch.tupleCount >= this.batchSize) this.flush();
  }

  addAck(kind: number, destTask: number, root: number, hi: number, lo: number, spoutTask: number): void {
    if (this.closed) return;
    this.batch.addAck(kind, destTask, root, hi, lo, spoutTask);
    if (this.batch.acks.length >= this.batchSize * 6) this.flush();
  }

  /** Sends (or, while disconnected, queues) what was batched, as one frame. */
  flush(): void {
    const batch = this.batch;
    if (batch.isEmpty() || this.closed) return;
    const tuples = batch.tupleCount;
    const acks = batch.ackCount;
    const frames = batch.encode(this.packr, this.frameBytesMax, this.dropped);
    for (let i = 0; i < frames.length; i++) this.enqueue(frames[i], i === 0 ? tuples : 0);
    this.tuplesSent += tuples;
    this.acksSent += acks;
    this.updateFull();
  }

  /** Sends a CONTROL message after everything batched so far. */
  sendControl(message: ControlMessage): void {
    if (this.closed) return;
    this.flush();
    this.enqueue(encodeControl(this.packr, message), 0);
    this.updateFull();
  }

  /** The link is open: queued frames go out in order. */
  attach(sink: FrameSink): void {
    if (this.closed) return;
    this.sink = sink;
    this.generation++;
    this.inflightBytes = 0;
    this.remoteBackpressure = false;
    const frames = this.pending.splice(0);
    this.pendingBytes = 0;
    this.pendingTuples = 0;
    for (const f of frames) this.send(f);
    this.updateFull();
  }

  /** The link is down: frames wait for the next one (what was in flight is lost; spouts replay). */
  detach(): void {
    this.sink = null;
    this.generation++;
    this.inflightBytes = 0;
    this.remoteBackpressure = false;
    this.updateFull();
  }

  get connected(): boolean {
    return this.sink !== null;
  }

  /** The receiver's BACKPRESSURE frame. */
  setRemoteBackpressure(on: boolean): void {
    this.remoteBackpressure = on;
    this.updateFull();
  }

  /** The peer is gone: drops what waits (counted and logged once) and never reports full again. */
  close(): void {
    if (this.closed) return;
    const lost = this.batch.tupleCount + this.pendingTuples;
    this.batch.clear();
    this.pending.length = 0;
    this.pendingBytes = 0;
    this.pendingTuples = 0;
    this.sink = null;
    this.generation++;
    this.closed = true;
    if (lost > 0) this.drop(lost, 'ERR_LINK_CLOSED', 'the peer was removed');
    const wasFull = this.full;
    this.full = false;
    if (wasFull) this.onWritable();
  }

  stats(): OutboxStats {
    return {
      peer: this.peer,
      connected: this.sink !== null,
      full: this.full,
      remoteBackpressure: this.remoteBackpressure,
      framesSent: this.framesSent,
      bytesSent: this.bytesSent,
      tuplesSent: this.tuplesSent,
      acksSent: this.acksSent,
      inflightBytes: this.inflightBytes,
      pendingFrames: this.pending.length,
      pendingBytes: this.pendingBytes,
      pendingTuples: this.pendingTuples + this.batch.tupleCount,
      tuplesDropped: this.tuplesDropped,
    };
  }

  private enqueue(frame: Buffer, tuples: number): void {
    if (this.sink !== null) this.send(frame);
    else {
      this.pending.push(frame);
      this.pendingBytes += frame.length;
      this.pendingTuples += tuples;
    }
  }

  private send(frame: Buffer): void {
    const generation = this.generation;
    const bytes = frame.length;
    this.inflightBytes += bytes;
    this.framesSent++;
    this.bytesSent += bytes;
    this.sink!.send(frame, () => this.sent(generation, bytes));
  }

  private sent(generation: number, bytes: number): void {
    if (generation !== this.generation) return;
    this.inflightBytes -= bytes;
    if (this.full) this.updateFull();
  }

  private updateFull(): void {
    const full =
      !this.closed &&
      (this.remoteBackpressure ||
        this.inflightBytes + this.pendingBytes > this.bufferBytes ||
        (this.sink === null && this.pendingTuples >= this.disconnectedTuplesMax));
    if (full === this.full) return;
    this.full = full;
    if (!full) this.onWritable();
  }

  private readonly dropped = (count: number, code: ErrorCode, why: string): void => this.drop(count, code, why);

  private drop(count: number, code: ErrorCode, why: string): void {
    this.tuplesDropped += count;
    if (this.droppedLogged.has(code)) return;
    this.droppedLogged.add(code);
    this.logger.error({ peer: this.peer, count, code }, `tuples for worker ${this.peer} dropped: ${why} (their spout tuples time out and are replayed)`);
  }
}
