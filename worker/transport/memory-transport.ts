import type { TopologyConfig } from '../../topology-api';
import { SystemClock, type Clock, type TimerHandle } from '../../common/clock';
import { squallError } from '../../common/errors';
import { silentLogger, type Logger } from '../../common/logging';
import { TransportCore } from './core';
import { CloseCode, closeReason, isLinkError } from './frames';
import { InboundLink } from './inbound';
import { BACKOFF_DEFAULT, nextLinkState, type LinkEvent, type LinkState } from './link-state';
import type { Outbox } from './outbox';
import { transferLimits, type PeerAddress, type TransferLimits, type Transport, type TransportAttachment, type TransportStats } from './types';

/**
 * The in-process twin of WsTransport, for several WorkerRuntimes in one process (local mode with
 * topology.workers > 1). It carries the same encoded frames (so the codec runs), one hop per
 * setImmediate, with the same outboxes, BACKPRESSURE and pausing; only the handshake is left out
 * (every endpoint of a hub belongs to one trusted process).
 */
export class MemoryHub {
  private readonly endpoints = new Map<string, MemoryTransport>();
  private readonly waiting = new Set<MemoryClientLink>();

  register(t: MemoryTransport): void {
    if (this.endpoints.has(t.workerKey)) throw squallError('ERR_INTERNAL', `worker "${t.workerKey}" is already on this hub`);
    this.endpoints.set(t.workerKey, t);
    for (const link of [...this.waiting]) if (link.peer === t.workerKey) link.peerAppeared();
  }

  unregister(t: MemoryTransport): void {
    if (this.endpoints.get(t.workerKey) === t) this.endpoints.delete(t.workerKey);
  }

  lookup(workerKey: string): MemoryTransport | undefined {
    return this.endpoints.get(workerKey);
  }

  /** A link waits here until its peer registers (instead of reconnect timers). */
  wait(link: MemoryClientLink): void {
    this.waiting.add(link);
  }

  unwait(link: MemoryClientLink): void {
    this.waiting.delete(link);
  }
}

/**
 * Frames in one direction of an in-memory connection, delivered in order on a later turn of the
 * event loop. Overflow rule: it never refuses; what it holds is bounded by the sender's outbox
 * (a frame counts as in flight until delivered, so a paused channel makes the outbox full).
 */
class Channel {
  private readonly frames: Buffer[] = [];
  private readonly dones: Array<(() => void) | undefined> = [];
  private immediate: NodeJS.Immediate | null = null;
  private paused = false;
  private closed = false;

  constructor(private readonly deliver: (frame: Buffer) => void) {}

  push(frame: Buffer, done?: () => void): void {
    if (this.closed) return;
    this.frames.push(frame);
    this.dones.push(done);
    this.schedule();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  close(): void {
    this.closed = true;
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
    this.frames.length = 0;
    this.dones.length = 0;
  }

  private schedule(): void {
    if (this.immediate === null && !this.paused && !this.closed && this.frames.length > 0) this.immediate = setImmediate(this.drain);
  }

  private readonly drain = (): void => {
    this.immediate = null;
    while (this.frames.length > 0 && !this.paused && !this.closed) {
      const frame = this.frames.shift()!;
      const done = this.dones.shift();
      this.deliver(frame);
      done?.();
    }
  };
}

/** The receiving end of an in-memory link, at the worker the tuples go to. */
class MemoryServerConn {
  readonly frames: Channel;
  private readonly inbound: InboundLink;
  private closed = false;

  constructor(
    private readonly client: MemoryClientLink,
    private readonly owner: MemoryTransport,
    core: TransportCore,
  ) {
    this.inbound = new InboundLink(client.from, {
      send: (frame) => client.replies.push(frame),
      pause: () => this.frames.pause(),
      resume: () => this.frames.resume(),
      close: (code, reason) => this.close(code, reason),
    }, core);
    this.frames = new Channel((frame) => this.inbound.onFrame(frame));
  }

  isPaused(): boolean {
    return this.inbound.isPaused();
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.frames.close();
    this.inbound.closedByPeer();
    this.owner.connClosed(this);
    this.client.serverClosed(this, code, reason);
  }
}

/** The link one worker opens to a peer on the hub; its outbox's frames go through it. */
class MemoryClientLink {
  private state: LinkState = 'closed';
  private conn: MemoryServerConn | null = null;
  /** Frames the receiver sends back (BACKPRESSURE, CONTROL). */
  replies: Channel = this.newReplies();
  private immediate: NodeJS.Immediate | null = null;
  private timer: TimerHandle | null = null;

  constructor(
    readonly peer: string,
    readonly from: string,
    readonly outbox: Outbox,
    private readonly hub: MemoryHub,
    private readonly core: TransportCore,
  ) {}

  linkState(): LinkState {
    return this.state;
  }

  start(): void {
    this.state = 'connecting';
    this.scheduleConnect();
  }

  repoint(): void {
    this.fire('repoint');
  }

  close(): void {
    this.fire('close');
  }

  peerAppeared(): void {
    this.fire('retry');
  }

  /** The receiving end closed (its worker closed, or it refused a frame). */
  serverClosed(conn: MemoryServerConn, code: number, reason: string): void {
    if (conn !== this.conn) return;
    this.conn = null;
    if (code !== CloseCode.GOING_AWAY) this.core.logger.warn({ peer: this.peer, closeCode: code }, `link to worker ${this.peer} closed by the peer: ${reason}`);
    this.fire('lost');
  }

  private fire(event: LinkEvent): void {
    const next = nextLinkState(this.state, event);
    if (next === undefined) return;
    const prev = this.state;
    this.state = next;
    if (prev === 'open') this.outbox.detach();
    if (next === 'connecting' || next === 'backoff' || next === 'closed') this.dropConn();
    if (next === 'connecting') this.scheduleConnect();
    else if (next === 'backoff') this.backoff();
    else if (next === 'closed') this.hub.unwait(this);
  }

  /** Waits for the peer to register; if it is there already (it refused us), retries after a pause. */
  private backoff(): void {
    this.hub.wait(this);
    if (this.hub.lookup(this.peer) === undefined) return;
    this.timer = this.core.clock.setTimeout(() => {
      this.timer = null;
      this.fire('retry');
    }, BACKOFF_DEFAULT.baseMs);
  }

  private scheduleConnect(): void {
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = setImmediate(() => {
      this.immediate = null;
      this.connect();
    });
  }

  private connect(): void {
    if (this.state !== 'connecting') return;
    const target = this.hub.lookup(this.peer);
    const conn = target?.accept(this);
    if (conn === undefined) {
      this.fire('lost');
      return;
    }
    this.hub.unwait(this);
    this.conn = conn;
    this.replies = this.newReplies();
    this.fire('upgraded');
    this.fire('authenticated');
    this.outbox.attach({ send: (frame, done) => conn.frames.push(frame, done) });
  }

  private newReplies(): Channel {
    return new Channel((frame) => this.reply(frame));
  }

  private reply(frame: Buffer): void {
    if (this.state !== 'open') return;
    try {
      this.core.replyFrame(this.peer, this.outbox, frame);
    } catch (err) {
      const code = isLinkError(err) ? err.closeCode : CloseCode.INTERNAL;
      this.core.reject(this.peer, err, code);
      this.conn?.close(code, closeReason(code, isLinkError(err) ? err.detail : 'internal error'));
    }
  }

  private dropConn(): void {
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
    if (this.timer !== null) this.core.clock.clear(this.timer);
    this.timer = null;
    this.replies.close();
    const conn = this.conn;
    this.conn = null;
    conn?.close(CloseCode.GOING_AWAY, closeReason(CloseCode.GOING_AWAY, 'link closed by the sender'));
  }
}

export interface MemoryTransportOptions {
  workerKey: string;
  /** Resolved topology configuration: batch size and buffer bytes come from it. */
  config?: Readonly<TopologyConfig>;
  limits?: Partial<TransferLimits>;
  clock?: Clock;
  logger?: Logger;
  refusedLogIntervalMs?: number;
}

export class MemoryTransport implements Transport {
  readonly workerKey: string;
  private readonly core: TransportCore;
  private readonly links = new Map<string, MemoryClientLink>();
  private readonly conns = new Set<MemoryServerConn>();
  private state: 'new' | 'listening' | 'closed' = 'new';

  constructor(
    private readonly hub: MemoryHub,
    opts: MemoryTransportOptions,
  ) {
    this.workerKey = opts.workerKey;
    this.core = new TransportCore({
      workerKey: opts.workerKey,
      limits: transferLimits(opts.config, opts.limits),
      clock: opts.clock ?? new SystemClock(),
      logger: (opts.logger ?? silentLogger()).child({ transport: 'memory', workerKey: opts.workerKey }),
      refusedLogIntervalMs: opts.refusedLogIntervalMs,
    });
  }

  attach(attachment: TransportAttachment): void {
    this.core.attach(attachment);
  }

  async listen(): Promise<void> {
    if (this.state !== 'new') throw squallError('ERR_INTERNAL', `listen() on a transport that is ${this.state}`);
    if (this.core.attachment === null) throw squallError('ERR_INTERNAL', 'attach the transport to a runtime before listen()');
    this.state = 'listening';
    this.hub.register(this);
  }

  /** Addresses mean nothing in memory: peers are found by key on the hub. */
  setPeers(peers: ReadonlyMap<string, PeerAddress>): void {
    if (this.state === 'closed') return;
    for (const [peer, link] of this.links) {
      if (peers.has(peer)) continue;
      link.close();
      this.links.delete(peer);
      this.core.removeOutbox(peer);
    }
    for (const peer of peers.keys()) {
      if (peer === this.workerKey || this.links.has(peer)) continue;
      const link = new MemoryClientLink(peer, this.workerKey, this.core.addOutbox(peer), this.hub, this.core);
      this.links.set(peer, link);
      link.start();
    }
  }

  /** A peer's link arrives; undefined while this worker is not accepting links. */
  accept(client: MemoryClientLink): MemoryServerConn | undefined {
    if (this.state !== 'listening') return undefined;
    const conn = new MemoryServerConn(client, this, this.core);
    this.conns.add(conn);
    return conn;
  }

  connClosed(conn: MemoryServerConn): void {
    this.conns.delete(conn);
  }

  outbox(peer: string): Outbox | undefined {
    return this.core.outbox(peer);
  }

  flush(): void {
    this.core.flush();
  }

  afterTurn(): void {
    this.core.afterTurn();
  }

  linkState(peer: string): LinkState | undefined {
    return this.links.get(peer)?.linkState();
  }

  stats(): TransportStats {
    return this.core.stats(this.conns.size);
  }

  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    this.state = 'closed';
    this.hub.unregister(this);
    for (const link of this.links.values()) link.close();
    this.links.clear();
    this.core.closeOutboxes();
    for (const conn of [...this.conns]) conn.close(CloseCode.GOING_AWAY, closeReason(CloseCode.GOING_AWAY, 'worker closing'));
    return Promise.resolve();
  }
}
