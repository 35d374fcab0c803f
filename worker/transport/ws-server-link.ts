import type { RawData, WebSocket } from 'ws';
import type { TimerHandle } from '../../common/clock';
import { encodeAuthOk, encodeChallenge, decodeAuth } from './codec';
import type { TransportCore } from './core';
import { CloseCode, FRAME_KIND_NAMES, FrameKind, HANDSHAKE_FRAME_BYTES_MAX, closeReason, frameKind, isLinkError, linkError } from './frames';
import { CLIENT_LABEL, SERVER_LABEL, handshakeMac, macMatches, newNonce } from './handshake';
import { InboundLink } from './inbound';

export interface ServerLinkOptions {
  core: TransportCore;
  secret: Buffer;
  topologyId: string;
  handshakeTimeoutMs: number;
}

/**
 * Until AUTH succeeds a connection may send only handshake-sized messages. ws applies one
 * maxPayload per server, read per connection from its receiver, so a connection is narrowed to
 * the handshake size on accept and widened after AUTH: an unauthenticated peer cannot make this
 * worker buffer a 16 MiB message (ws closes it with 1009 as soon as the length header is read).
 * `test/integration/transport/preauth-limits.test.ts` checks this against the installed ws.
 */
function setMessageCap(ws: WebSocket, bytes: number): boolean {
  const receiver = (ws as unknown as { _receiver?: { _maxPayload?: number } })._receiver;
  if (!receiver || typeof receiver._maxPayload !== 'number') return false;
  receiver._maxPayload = bytes;
  return true;
}

/** Options for ws `send`: one shared object (ws reads it per call; no compression, binary). */
export const SEND_OPTIONS = Object.freeze({ binary: true, compress: false, fin: true });

/**
 * The server end of one connection: CHALLENGE, then exactly one AUTH within the handshake
 * timeout, then TUPLES and CONTROL frames handed to an InboundLink. Any violation closes this
 * connection with a coded reason and one log line; nothing escapes an event handler.
 */
export class WsServerLink {
  private state: 'challenged' | 'open' | 'closed' = 'challenged';
  private readonly nonce = newNonce();
  private timer: TimerHandle | null;
  private inbound: InboundLink | null = null;
  private peer: string;

  constructor(
    private readonly ws: WebSocket,
    remote: string,
    private readonly opts: ServerLinkOptions,
    private readonly onClosed: (link: WsServerLink) => void,
  ) {
    this.peer = remote;
    if (!setMessageCap(ws, HANDSHAKE_FRAME_BYTES_MAX)) opts.core.logger.warn('cannot narrow the pre-auth message size on this ws version');
    ws.on('message', this.onMessage);
    ws.on('error', this.onError);
    ws.on('close', this.onClose);
    const core = opts.core;
    this.timer = core.clock.setTimeout(() => {
      this.timer = null;
      this.reject(linkError(CloseCode.HANDSHAKE_TIMEOUT, `no AUTH within ${opts.handshakeTimeoutMs} ms`));
    }, opts.handshakeTimeoutMs);
    ws.send(encodeChallenge(core.packr, { nonce: this.nonce, serverId: core.workerKey }), SEND_OPTIONS);
  }

  isOpen(): boolean {
    return this.state === 'open';
  }

  isPaused(): boolean {
    return this.inbound?.isPaused() ?? false;
  }

  private readonly onMessage = (data: RawData, isBinary: boolean): void => {
    try {
      if (this.state === 'closed') return;
      if (!isBinary) throw linkError(CloseCode.FRAME_MALFORMED, 'a text message (frames are binary)');
      const frame = data as Buffer;
      if (this.state === 'open') this.inbound!.onFrame(frame);
      else this.authenticate(frame);
    } catch (err) {
      this.reject(err);
    }
  };

  private authenticate(frame: Buffer): void {
    const core = this.opts.core;
    const kind = frameKind(frame, HANDSHAKE_FRAME_BYTES_MAX);
    if (kind !== FrameKind.AUTH) throw linkError(CloseCode.HANDSHAKE_UNEXPECTED, `${FRAME_KIND_NAMES[kind]} before AUTH`);
    const auth = decodeAuth(core.unpackr, frame);
    const fields = { serverNonce: this.nonce, clientNonce: auth.clientNonce, serverId: core.workerKey, clientId: auth.clientId, topologyId: auth.topologyId };
    if (!macMatches(this.opts.secret, CLIENT_LABEL, fields, auth.mac)) throw linkError(CloseCode.HANDSHAKE_BAD_MAC, `worker "${auth.clientId}" did not prove the cluster secret`);
    if (auth.topologyId !== this.opts.topologyId) throw linkError(CloseCode.HANDSHAKE_WRONG_TOPOLOGY, `worker "${auth.clientId}" belongs to topology "${auth.topologyId}"`);
    this.clearTimer();
    this.state = 'open';
    this.peer = auth.clientId;
    setMessageCap(this.ws, core.frameBytesMax);
    this.ws.send(encodeAuthOk(core.packr, { mac: handshakeMac(this.opts.secret, SERVER_LABEL, fields) }), SEND_OPTIONS);
    const ws = this.ws;
    this.inbound = new InboundLink(auth.clientId, {
      send: (f) => ws.send(f, SEND_OPTIONS),
      pause: () => ws.pause(),
      resume: () => ws.resume(),
      close: (code, reason) => this.close(code, reason),
    }, core);
    core.logger.info({ peer: auth.clientId }, `accepted a link from worker ${auth.clientId}`);
  }

  /** ws closes the connection itself after these (bad websocket framing, over maxPayload). */
  private readonly onError = (err: Error & { code?: string }): void => {
    if (this.state === 'closed') return;
    const tooLarge = err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH';
    const closeCode = tooLarge ? CloseCode.FRAME_TOO_LARGE : CloseCode.FRAME_MALFORMED;
    this.state = 'closed';
    this.clearTimer();
    this.inbound?.closedByPeer();
    this.opts.core.reject(this.peer, linkError(closeCode, `websocket: ${err.message}`), closeCode);
  };

  private readonly onClose = (): void => {
    this.state = 'closed';
    this.clearTimer();
    this.inbound?.closedByPeer();
    this.ws.off('message', this.onMessage);
    this.onClosed(this);
  };

  private reject(err: unknown): void {
    if (this.state === 'closed') return;
    const closeCode = isLinkError(err) ? err.closeCode : CloseCode.INTERNAL;
    this.opts.core.reject(this.peer, err, closeCode);
    this.close(closeCode, closeReason(closeCode, isLinkError(err) ? err.detail : 'internal error'));
  }

  /** Closes with a code; ws destroys the socket if the peer does not answer within closeTimeout. */
  close(closeCode: number, reason: string): void {
    this.state = 'closed';
    this.clearTimer();
    this.inbound?.closedByPeer();
    this.ws.close(closeCode, reason);
  }

  private clearTimer(): void {
    if (this.timer !== null) this.opts.core.clock.clear(this.timer);
    this.timer = null;
  }
}
