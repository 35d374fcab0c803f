import type { Packr, Unpackr } from 'msgpackr';
import type { Clock, TimerHandle } from '../../common/clock';
import type { Logger } from '../../common/logging';
import type { Backpressured } from '../routing';
import { decodeControl, decodeTuples, encodeBackpressure } from './codec';
import { CloseCode, FRAME_KIND_NAMES, FrameKind, closeReason, frameKind, isLinkError, linkError } from './frames';
import type { TransportAttachment } from './types';

/** How long a paused link is watched before BACKPRESSURE on is sent (see InboundLink). */
export const BACKPRESSURE_WINDOW_MS = 5;
/** Share of a window a link must spend paused to be signalled. */
const BACKPRESSURE_PAUSED_FRACTION = 0.75;

/** What an inbound link needs from its connection (a websocket, or the in-memory pipe). */
export interface InboundHost {
  /** Sends a frame back to the sending worker (BACKPRESSURE) on this same connection. */
  send(frame: Buffer): void;
  /** Stops reading from the connection (ws `pause()`). */
  pause(): void;
  resume(): void;
  close(closeCode: number, reason: string): void;
}

export interface InboundCounters {
  framesIn: number;
  bytesIn: number;
  tuplesIn: number;
  acksIn: number;
  refusedIn: number;
  rejectedConnections: number;
}

/** What inbound links share within one transport (TransportCore implements it). */
export interface InboundContext {
  readonly attachment: TransportAttachment | null;
  readonly unpackr: Unpackr;
  readonly packr: Packr;
  readonly frameBytesMax: number;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly refusedLogIntervalMs: number;
  readonly counters: InboundCounters;
  /** Links paused until inboxes drain; `afterTurn` re-checks them. */
  readonly paused: Set<InboundLink>;
  /** The local queue of a task (cached). */
  queueOf(task: number): Backpressured;
  /** Per-task marks to find the distinct tasks of a frame without allocating; see `nextStamp`. */
  readonly stamps: Uint32Array;
  nextStamp(): number;
  /** A connection is closed for a protocol violation: one log line (rate-limited per transport). */
  reject(peer: string, err: unknown, closeCode: number): void;
}

/**
 * The receiving end of one authenticated link: decodes TUPLES frames into the runtime and does
 * inbound flow control. After delivering a frame, if an inbox that frame delivered into is full,
 * the connection is paused and BACKPRESSURE on is sent back; `checkResume` (each runtime turn)
 * resumes it and sends BACKPRESSURE off once those inboxes are below capacity again.
 *
 * Only the inboxes the frame fed are checked, not every inbox of the worker: a local spout keeps
 * its first bolt's inbox at capacity as a matter of course, and pausing every link for that would
 * stall tuples and acks that do not go there, which deadlocks two workers that send to each other.
 *
 * Overflow rule (`held`): frames that ws emits after `pause()` (the rest of the socket read that
 * carried the frame that filled an inbox; ws parses a whole read synchronously) wait here and are
 * delivered in order on resume. The socket is paused, so this holds at most one read (≤ 64 KiB)
 * plus one partly received frame. Memory per link: the inboxes' capacities + one frame + that.
 *
 * The socket is paused at once, but BACKPRESSURE on is sent only when the link has spent most of
 * the last `BACKPRESSURE_WINDOW_MS` (or more) paused: at a pause, from the previous window's
 * share, or from a timer when a single pause lasts that long. A frame can carry more tuples for one task than its
 * inbox holds (a batch is up to 1024 tuples, a 64 KiB socket read several thousand), so a bolt
 * that keeps up easily still fills its inbox on most reads and is drained a turn later. Signalling
 * each of those pauses stalled the sender for a round trip every time: thousands of BACKPRESSURE
 * cycles per second, both workers half idle (const-spout → null-bolt over two workers: 2.3–3.0M
 * tuples/s with the signal at every pause, 5.2–5.8M without). A short pause costs nothing:
 * the socket is not read, and what the sender writes meanwhile waits in TCP buffers, and past
 * `topology.transfer.buffer.bytes` in its outbox, which parks its emitters. Sustained overload (a
 * slow bolt) keeps the link paused and is signalled within the window.
 */
export class InboundLink {
  private paused = false;
  /** The connection is not being read (from a pause until the resume that empties `held`). */
  private socketPaused = false;
  /** BACKPRESSURE on was sent (off is sent on resume). */
  private signalled = false;
  private closed = false;
  /** Watches a pause that no turn has ended yet (see `watch`). */
  private timer: TimerHandle | null = null;
  /** Paused time is accounted in windows of at least BACKPRESSURE_WINDOW_MS, rolled at pauses. */
  private windowStartMs = -Infinity;
  /** Paused time in the current window, the current pause excluded. */
  private pausedMs = 0;
  private pausedAtMs = 0;
  /** Share of the previous window spent paused. */
  private lastPausedFraction = 0;
  private readonly held: Buffer[] = [];
  /** Tasks whose full inbox paused this link. */
  private readonly watched: number[] = [];
  private readonly delivered: number[] = [];
  private refusedSinceLog = 0;
  private refusedLogMs = -Infinity;

  constructor(
    readonly peer: string,
    private readonly host: InboundHost,
    private readonly ctx: InboundContext,
  ) {}

  /** A frame after authentication. Never throws: a bad frame closes this connection only. */
  onFrame(frame: Buffer): void {
    if (this.closed) return;
    if (this.paused) this.held.push(frame);
    else this.handle(frame);
  }

  /** Resumes the link if every inbox that paused it has drained below capacity. */
  checkResume(): void {
    if (this.closed || !this.paused) return;
    for (const t of this.watched) if (this.ctx.queueOf(t).isFull()) return;
    this.watched.length = 0;
    this.paused = false;
    this.pausedMs += this.ctx.clock.now() - Math.max(this.pausedAtMs, this.windowStartMs);
    while (this.held.length > 0 && !this.paused && !this.closed) this.handle(this.held.shift()!);
    if (this.paused || this.closed) return;
    this.ctx.paused.delete(this);
    this.socketPaused = false;
    this.host.resume();
    if (!this.signalled) return;
    this.signalled = false;
    this.host.send(encodeBackpressure(this.ctx.packr, false));
  }

  isPaused(): boolean {
    return this.paused;
  }

  /** The connection closed (either side). */
  closedByPeer(): void {
    this.closed = true;
    this.held.length = 0;
    this.ctx.paused.delete(this);
    this.clearTimer();
  }

  private handle(frame: Buffer): void {
    try {
      const kind = frameKind(frame, this.ctx.frameBytesMax);
      this.ctx.counters.framesIn++;
      this.ctx.counters.bytesIn += frame.length;
      if (kind === FrameKind.TUPLES) this.deliver(frame);
      else if (kind === FrameKind.CONTROL) {
        const message = decodeControl(this.ctx.unpackr, frame);
        this.ctx.attachment?.onControl?.(this.peer, message);
      } else throw linkError(CloseCode.FRAME_KIND, `${FRAME_KIND_NAMES[kind]} is not expected from a sending worker`);
    } catch (err) {
      this.fail(err);
    }
  }

  private deliver(frame: Buffer): void {
    const att = this.ctx.attachment;
    if (att === null) throw linkError(CloseCode.INTERNAL, 'tuples arrived before the transport was attached to a runtime');
    const d = decodeTuples(this.ctx.unpackr, att.streams, frame);
    const receiver = att.receiver;
    const stamps = this.ctx.stamps;
    const stamp = this.ctx.nextStamp();
    const delivered = this.delivered;
    const tasks = d.tasks;
    const tuples = d.tuples;
    let refused = 0;
    for (let i = 0; i < tuples.length; i++) {
      const task = tasks[i];
      if (!receiver.receiveTuple(task, tuples[i])) refused++;
      else if (stamps[task] !== stamp) {
        stamps[task] = stamp;
        delivered.push(task);
      }
    }
    const a = d.acks;
    for (let i = 0; i < a.length; i += 6) if (!receiver.receiveAck(a[i], a[i + 1], a[i + 2], a[i + 3], a[i + 4], a[i + 5])) refused++;
    const counters = this.ctx.counters;
    counters.tuplesIn += tuples.length;
    counters.acksIn += a.length / 6;
    if (refused > 0) this.refused(refused);
    for (const task of delivered) if (this.ctx.queueOf(task).isFull()) this.watched.push(task);
    delivered.length = 0;
    if (this.watched.length > 0) this.pause();
  }

  private pause(): void {
    const now = this.ctx.clock.now();
    this.paused = true;
    this.pausedAtMs = now;
    this.ctx.paused.add(this);
    if (!this.socketPaused) {
      this.socketPaused = true;
      this.host.pause();
    }
    if (this.signalled) return;
    if (now - this.windowStartMs >= BACKPRESSURE_WINDOW_MS) this.rollWindow(now);
    // paused most of the last window (a slow bolt: paused again as soon as a turn resumed it)
    if (this.lastPausedFraction >= BACKPRESSURE_PAUSED_FRACTION) this.signal();
    else if (this.timer === null) this.timer = this.ctx.clock.setTimeout(this.watch, BACKPRESSURE_WINDOW_MS);
  }

  private rollWindow(now: number): void {
    const span = now - this.windowStartMs;
    this.lastPausedFraction = span > 0 ? this.pausedMs / span : 0;
    this.windowStartMs = now;
    this.pausedMs = 0;
  }

  /** A pause that outlasts most of a window (no turn resumed it, e.g. a long execute) is signalled. */
  private readonly watch = (): void => {
    this.timer = null;
    if (this.closed || !this.paused || this.signalled) return;
    const now = this.ctx.clock.now();
    const paused = this.pausedMs + (now - Math.max(this.pausedAtMs, this.windowStartMs));
    if (paused >= BACKPRESSURE_PAUSED_FRACTION * (now - this.windowStartMs)) this.signal();
    else this.timer = this.ctx.clock.setTimeout(this.watch, BACKPRESSURE_WINDOW_MS);
  };

  private signal(): void {
    this.clearTimer();
    this.signalled = true;
    this.host.send(encodeBackpressure(this.ctx.packr, true));
  }

  private clearTimer(): void {
    if (this.timer !== null) this.ctx.clock.clear(this.timer);
    this.timer = null;
  }

  /**
   * Tuples for tasks this worker does not run: refused, the connection kept. It happens while an
   * assignment changes (the sender has not heard yet); the spouts' timeouts replay them.
   */
  private refused(count: number): void {
    this.ctx.counters.refusedIn += count;
    this.refusedSinceLog += count;
    const now = this.ctx.clock.now();
    if (now - this.refusedLogMs < this.ctx.refusedLogIntervalMs) return;
    this.ctx.logger.warn(
      { code: 'ERR_TASK_NOT_OWNED', peer: this.peer, refused: this.refusedSinceLog },
      `refused tuples from worker ${this.peer} for tasks this worker does not run (assignment changing?)`,
    );
    this.refusedSinceLog = 0;
    this.refusedLogMs = now;
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.held.length = 0;
    this.ctx.paused.delete(this);
    this.clearTimer();
    const closeCode = isLinkError(err) ? err.closeCode : CloseCode.INTERNAL;
    this.ctx.reject(this.peer, err, closeCode);
    this.host.close(closeCode, closeReason(closeCode, isLinkError(err) ? err.detail : 'internal error'));
  }
}
