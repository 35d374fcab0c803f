import type { Clock } from '../../common/clock';
import { describeError, squallError } from '../../common/errors';
import type { Logger } from '../../common/logging';
import type { Backpressured } from '../routing';
import { createPackr, createUnpackr, decodeBackpressure, decodeControl } from './codec';
import { CloseCode, FRAME_KIND_NAMES, FrameKind, closeErrorCode, frameKind, isLinkError, linkError } from './frames';
import type { InboundContext, InboundCounters, InboundLink } from './inbound';
import { Outbox } from './outbox';
import type { TransferLimits, TransportAttachment, TransportStats } from './types';

export interface CoreOptions {
  workerKey: string;
  limits: TransferLimits;
  clock: Clock;
  logger: Logger;
  /** Refused tuples (ERR_TASK_NOT_OWNED) are logged at most once per link per interval. */
  refusedLogIntervalMs?: number;
  /** Rejected connections logged per interval before lines are only counted (flood guard). */
  rejectLogsPerInterval?: number;
}

const REFUSED_LOG_INTERVAL_MS = 10_000;
const REJECT_LOG_INTERVAL_MS = 10_000;
const REJECT_LOGS_PER_INTERVAL = 20;

/**
 * What both transports share: the attachment to the runtime, the outboxes by peer, the inbound
 * links' context (codecs, counters, paused links) and logging of rejected connections. Each
 * transport adds only how links are made (websockets, or the in-process hub).
 */
export class TransportCore implements InboundContext {
  readonly workerKey: string;
  readonly limits: TransferLimits;
  readonly frameBytesMax: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly refusedLogIntervalMs: number;
  attachment: TransportAttachment | null = null;
  readonly unpackr = createUnpackr();
  /** For handshake, BACKPRESSURE and CONTROL frames; every outbox has its own for tuples. */
  readonly packr = createPackr();
  readonly counters: InboundCounters = { framesIn: 0, bytesIn: 0, tuplesIn: 0, acksIn: 0, refusedIn: 0, rejectedConnections: 0 };
  readonly paused = new Set<InboundLink>();
  stamps = new Uint32Array(0);
  private stampNo = 0;
  private readonly queues: Array<Backpressured | undefined> = [];
  private readonly outboxes = new Map<string, Outbox>();
  private outboxList: Outbox[] = [];
  private readonly rejectLogsPerInterval: number;
  private rejectWindowMs = -Infinity;
  private rejectLogged = 0;
  private rejectSuppressed = 0;

  constructor(opts: CoreOptions) {
    this.workerKey = opts.workerKey;
    this.limits = opts.limits;
    this.frameBytesMax = opts.limits.frameBytesMax;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.refusedLogIntervalMs = opts.refusedLogIntervalMs ?? REFUSED_LOG_INTERVAL_MS;
    this.rejectLogsPerInterval = opts.rejectLogsPerInterval ?? REJECT_LOGS_PER_INTERVAL;
  }

  attach(attachment: TransportAttachment): void {
    if (this.attachment !== null) throw squallError('ERR_INTERNAL', 'the transport is already attached to a runtime');
    this.attachment = attachment;
    this.stamps = new Uint32Array(attachment.streams.taskComponent.length);
  }

  nextStamp(): number {
    if (++this.stampNo === 0xffffffff) {
      this.stamps.fill(0);
      this.stampNo = 1;
    }
    return this.stampNo;
  }

  queueOf(task: number): Backpressured {
    return (this.queues[task] ??= this.attachment!.receiver.queueFor(task));
  }

  // ---- outboxes -------------------------------------------------------------------------------

  outbox(peer: string): Outbox | undefined {
    return this.outboxes.get(peer);
  }

  addOutbox(peer: string): Outbox {
    const outbox = new Outbox({
      peer,
      batchSize: this.limits.batchSize,
      bufferBytes: this.limits.bufferBytes,
      frameBytesMax: this.frameBytesMax,
      onWritable: this.onWritable,
      logger: this.logger,
    });
    this.outboxes.set(peer, outbox);
    this.outboxList = [...this.outboxes.values()];
    return outbox;
  }

  removeOutbox(peer: string): void {
    const outbox = this.outboxes.get(peer);
    if (outbox === undefined) return;
    this.outboxes.delete(peer);
    this.outboxList = [...this.outboxes.values()];
    outbox.close();
  }

  private readonly onWritable = (): void => this.attachment?.onWritable();

  flush(): void {
    const list = this.outboxList;
    for (let i = 0; i < list.length; i++) list[i].flush();
  }

  afterTurn(): void {
    if (this.paused.size === 0) return;
    for (const link of this.paused) link.checkResume();
  }

  /**
   * A frame arriving on a link this worker opened (after auth): BACKPRESSURE from the receiver,
   * or CONTROL. Throws a LinkError for anything else.
   */
  replyFrame(peer: string, outbox: Outbox, frame: Uint8Array): void {
    const kind = frameKind(frame, this.frameBytesMax);
    if (kind === FrameKind.BACKPRESSURE) outbox.setRemoteBackpressure(decodeBackpressure(this.unpackr, frame));
    else if (kind === FrameKind.CONTROL) this.attachment?.onControl?.(peer, decodeControl(this.unpackr, frame));
    else throw linkError(CloseCode.FRAME_KIND, `${FRAME_KIND_NAMES[kind]} is not expected from a receiving worker`);
  }

  // ---- rejected connections -----------------------------------------------------------------

  /** One log line per rejected connection, at most `rejectLogsPerInterval` per 10 s. */
  reject(peer: string, err: unknown, closeCode: number): void {
    this.counters.rejectedConnections++;
    const now = this.clock.now();
    if (now - this.rejectWindowMs >= REJECT_LOG_INTERVAL_MS) {
      if (this.rejectSuppressed > 0) this.logger.warn({ suppressed: this.rejectSuppressed }, 'more connections were rejected than logged');
      this.rejectWindowMs = now;
      this.rejectLogged = 0;
      this.rejectSuppressed = 0;
    }
    if (this.rejectLogged >= this.rejectLogsPerInterval) {
      this.rejectSuppressed++;
      return;
    }
    this.rejectLogged++;
    const code = isLinkError(err) ? err.code : closeErrorCode(closeCode);
    const detail = isLinkError(err) ? err.detail : describeError(err);
    if (closeCode === CloseCode.INTERNAL) this.logger.error({ err, peer, closeCode }, 'link closed on an internal error');
    else this.logger.warn({ code, peer, closeCode }, `link closed: ${detail}`);
  }

  stats(inboundLinks: number): TransportStats {
    return {
      workerKey: this.workerKey,
      inboundLinks,
      pausedLinks: this.paused.size,
      ...this.counters,
      outboxes: this.outboxList.map((o) => o.stats()),
    };
  }

  /** Drops every outbox (what waits is counted as dropped). */
  closeOutboxes(): void {
    for (const peer of [...this.outboxes.keys()]) this.removeOutbox(peer);
  }
}
