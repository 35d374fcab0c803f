import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type ServerOptions } from 'ws';
import type { TopologyConfig } from '../../topology-api';
import { SystemClock, type Clock } from '../../common/clock';
import { describeError, squallError } from '../../common/errors';
import { silentLogger, type Logger } from '../../common/logging';
import { Random } from '../../common/random';
import { TransportCore } from './core';
import { CloseCode, HANDSHAKE_TIMEOUT_MS_DEFAULT, closeReason, linkError } from './frames';
import { secretBytes } from './handshake';
import { BACKOFF_DEFAULT, type BackoffPolicy, type LinkState } from './link-state';
import type { Outbox } from './outbox';
import { transferLimits, type PeerAddress, type TransferLimits, type Transport, type TransportAttachment, type TransportStats } from './types';
import { WsClientLink, type ClientLinkOptions } from './ws-client-link';
import { WsServerLink, type ServerLinkOptions } from './ws-server-link';

export interface WsTransportOptions {
  /** This worker's key (`node:port` in an assignment); peers check it in the handshake. */
  workerKey: string;
  topologyId: string;
  /** The cluster secret both ends of every link must prove. */
  secret: string | Uint8Array;
  /** The worker's slot port; 0 picks a free one (tests). */
  port: number;
  /** Interface to listen on (default 127.0.0.1). */
  host?: string;
  /** Resolved topology configuration: batch size and buffer bytes come from it. */
  config?: Readonly<TopologyConfig>;
  /** Explicit limits, winning over `config` (frameBytesMax defaults to 16 MiB). */
  limits?: Partial<TransferLimits>;
  handshakeTimeoutMs?: number;
  backoff?: Partial<BackoffPolicy>;
  /** Wait for a peer's close frame before the socket is destroyed (default 1000 ms). */
  closeTimeoutMs?: number;
  clock?: Clock;
  /** Seeds the reconnect jitter. */
  random?: Random;
  logger?: Logger;
  refusedLogIntervalMs?: number;
}

const CLOSE_TIMEOUT_MS_DEFAULT = 1000;
/** Unauthenticated connections held at once; more are closed at once (bounds pre-auth memory). */
const PENDING_HANDSHAKES_MAX = 32;
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nERR_FRAME_MALFORMED not a websocket upgrade\n';

/**
 * Worker links over websockets: a server on this worker's slot port for links peers open, and
 * one client link to each peer for this worker's own tuples. See docs/protocol.md.
 */
export class WsTransport implements Transport {
  readonly workerKey: string;
  private readonly core: TransportCore;
  private readonly host: string;
  private readonly requestedPort: number;
  private boundPort = 0;
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private readonly serverLinks = new Set<WsServerLink>();
  private readonly clientLinks = new Map<string, WsClientLink>();
  private readonly sockets = new Set<WebSocket>();
  private readonly clientOptions: ClientLinkOptions;
  private readonly serverOptions: ServerLinkOptions;
  private state: 'new' | 'listening' | 'closed' = 'new';
  private closing: Promise<void> | null = null;

  constructor(opts: WsTransportOptions) {
    this.workerKey = opts.workerKey;
    this.host = opts.host ?? '127.0.0.1';
    this.requestedPort = opts.port;
    const logger = (opts.logger ?? silentLogger()).child({ transport: 'ws', workerKey: opts.workerKey });
    this.core = new TransportCore({
      workerKey: opts.workerKey,
      limits: transferLimits(opts.config, opts.limits),
      clock: opts.clock ?? new SystemClock(),
      logger,
      refusedLogIntervalMs: opts.refusedLogIntervalMs,
    });
    const secret = secretBytes(opts.secret);
    const handshakeTimeoutMs = opts.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS_DEFAULT;
    const closeTimeoutMs = opts.closeTimeoutMs ?? CLOSE_TIMEOUT_MS_DEFAULT;
    this.serverOptions = { core: this.core, secret, topologyId: opts.topologyId, handshakeTimeoutMs };
    this.clientOptions = {
      core: this.core,
      secret,
      topologyId: opts.topologyId,
      handshakeTimeoutMs,
      backoff: { ...BACKOFF_DEFAULT, ...opts.backoff },
      random: opts.random ?? new Random(),
      closeTimeoutMs,
      track: (ws) => this.track(ws),
    };
    this.server = http.createServer();
    this.server.on('request', this.onRequest);
    this.server.on('upgrade', this.onUpgrade);
    this.server.on('clientError', this.onClientError);
    const wsOptions: ServerOptions & { closeTimeout: number } = {
      noServer: true,
      perMessageDeflate: false,
      maxPayload: this.core.frameBytesMax,
      skipUTF8Validation: true,
      clientTracking: false,
      closeTimeout: closeTimeoutMs,
    };
    this.wss = new WebSocketServer(wsOptions);
    this.wss.on('wsClientError', this.onWsClientError);
  }

  /** The port the server listens on (after `listen()`). */
  get port(): number {
    return this.boundPort;
  }

  attach(attachment: TransportAttachment): void {
    this.core.attach(attachment);
  }

  async listen(): Promise<void> {
    if (this.state !== 'new') throw squallError('ERR_INTERNAL', `listen() on a transport that is ${this.state}`);
    if (this.core.attachment === null) throw squallError('ERR_INTERNAL', 'attach the transport to a runtime before listen()');
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => {
          this.server.off('listening', onListening);
          reject(err);
        };
        const onListening = (): void => {
          this.server.off('error', onError);
          resolve();
        };
        this.server.once('error', onError);
        this.server.once('listening', onListening);
        this.server.listen(this.requestedPort, this.host);
      });
    } catch (err) {
      throw squallError('ERR_WORKER_START_FAILED', `cannot listen on ${this.host}:${this.requestedPort}: ${describeError(err)}`, { cause: err });
    }
    if (this.closing !== null) {
      // close() ran while the server was binding
      this.server.close();
      throw squallError('ERR_CLOSED', 'the transport was closed while it started listening');
    }
    this.state = 'listening';
    this.boundPort = (this.server.address() as AddressInfo).port;
    this.server.on('error', (err) => this.core.logger.error({ err }, 'link server error'));
    this.core.logger.info({ host: this.host, port: this.boundPort }, 'accepting worker links');
  }

  setPeers(peers: ReadonlyMap<string, PeerAddress>): void {
    if (this.state === 'closed') return;
    for (const [peer, link] of this.clientLinks) {
      if (peers.has(peer)) continue;
      link.close();
      this.clientLinks.delete(peer);
      this.core.removeOutbox(peer);
    }
    for (const [peer, address] of peers) {
      if (peer === this.workerKey) continue;
      const link = this.clientLinks.get(peer);
      if (link !== undefined) link.repoint(address);
      else {
        const created = new WsClientLink(peer, { host: address.host, port: address.port }, this.core.addOutbox(peer), this.clientOptions);
        this.clientLinks.set(peer, created);
        created.start();
      }
    }
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

  /** State of the link to `peer` (tests, monitoring). */
  linkState(peer: string): LinkState | undefined {
    return this.clientLinks.get(peer)?.linkState();
  }

  stats(): TransportStats {
    let open = 0;
    for (const l of this.serverLinks) if (l.isOpen()) open++;
    return this.core.stats(open);
  }

  close(): Promise<void> {
    if (this.closing === null) {
      this.state = 'closed';
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  /** Ordered, and every step runs even when one before it throws. */
  private async shutdown(): Promise<void> {
    const step = (what: string, fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        this.core.logger.warn({ err }, `closing the transport: ${what} failed`);
      }
    };
    const serverClosed = new Promise<void>((resolve) => {
      step('stop listening', () => (this.server.listening ? this.server.close(() => resolve()) : resolve()));
    });
    step('close outbound links', () => {
      for (const link of this.clientLinks.values()) link.close();
      this.clientLinks.clear();
    });
    step('drop outboxes', () => this.core.closeOutboxes());
    step('close inbound links', () => {
      for (const link of this.serverLinks) link.close(CloseCode.GOING_AWAY, closeReason(CloseCode.GOING_AWAY, 'worker closing'));
    });
    step('close idle HTTP connections', () => this.server.closeAllConnections());
    step('close the websocket server', () => this.wss.close());
    // ws destroys any socket whose peer does not answer the close within closeTimeoutMs
    await Promise.all([...this.sockets].map((ws) => new Promise<void>((resolve) => (ws.readyState === WebSocket.CLOSED ? resolve() : ws.once('close', () => resolve())))));
    await serverClosed;
    this.server.removeAllListeners();
    this.wss.removeAllListeners();
  }

  private track(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.once('close', () => this.sockets.delete(ws));
  }

  // ---- server events: none of them may throw ---------------------------------------------------

  private readonly onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => {
    try {
      if (this.state !== 'listening') {
        socket.destroy();
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
    } catch (err) {
      this.core.logger.error({ err }, 'websocket upgrade failed');
      socket.destroy();
    }
  };

  private onConnection(ws: WebSocket, req: http.IncomingMessage): void {
    this.track(ws);
    try {
      if (this.state !== 'listening') {
        ws.terminate();
        return;
      }
      // bound what unauthenticated peers can hold: at most this many handshakes at once
      let pending = 0;
      for (const l of this.serverLinks) if (!l.isOpen()) pending++;
      if (pending >= PENDING_HANDSHAKES_MAX) {
        this.core.reject(remoteOf(req.socket), linkError(CloseCode.HANDSHAKE_TIMEOUT, `${pending} handshakes already pending`), CloseCode.HANDSHAKE_TIMEOUT);
        ws.close(CloseCode.HANDSHAKE_TIMEOUT, closeReason(CloseCode.HANDSHAKE_TIMEOUT, 'too many pending handshakes'));
        return;
      }
      const link = new WsServerLink(ws, remoteOf(req.socket), this.serverOptions, (l) => this.serverLinks.delete(l));
      this.serverLinks.add(link);
    } catch (err) {
      this.core.logger.error({ err }, 'accepting a link failed');
      ws.terminate();
    }
  }

  /** Plain HTTP (no upgrade) on the link port: refused with 426 and the code. */
  private readonly onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    try {
      this.core.reject(remoteOf(req.socket), linkError(CloseCode.FRAME_MALFORMED, `plain HTTP ${req.method} without a websocket upgrade`), CloseCode.FRAME_MALFORMED);
      res.writeHead(426, { 'content-type': 'text/plain', connection: 'close', upgrade: 'websocket' });
      res.end('ERR_FRAME_MALFORMED this port serves squall worker links (websocket upgrade required)\n');
    } catch (err) {
      this.core.logger.error({ err }, 'answering a plain HTTP request failed');
      req.socket.destroy();
    }
  };

  /** Bytes that are not HTTP at all. */
  private readonly onClientError = (err: Error & { code?: string }, socket: Duplex): void => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    this.core.reject(remoteOf(socket as Socket), linkError(CloseCode.FRAME_MALFORMED, `not HTTP (${err.code ?? err.message})`), CloseCode.FRAME_MALFORMED);
    socket.end(BAD_REQUEST, () => socket.destroy());
  };

  /** An HTTP upgrade request ws refuses (bad key, version, method, ...). */
  private readonly onWsClientError = (err: Error, socket: Duplex, req: http.IncomingMessage): void => {
    this.core.reject(remoteOf(req.socket), linkError(CloseCode.FRAME_MALFORMED, `bad websocket upgrade: ${err.message}`), CloseCode.FRAME_MALFORMED);
    if (socket.writable) socket.end(BAD_REQUEST, () => socket.destroy());
    else socket.destroy();
  };
}

function remoteOf(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}
