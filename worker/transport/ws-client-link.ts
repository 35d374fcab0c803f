import { WebSocket, type ClientOptions, type RawData } from 'ws';
import type { TimerHandle } from '../../common/clock';
import { describeError } from '../../common/errors';
import type { Random } from '../../common/random';
import { decodeAuthOk, decodeChallenge, encodeAuth } from './codec';
import type { TransportCore } from './core';
import { CloseCode, FRAME_KIND_NAMES, FrameKind, HANDSHAKE_FRAME_BYTES_MAX, closeErrorCode, closeReason, frameKind, isLinkError, linkError } from './frames';
import { CLIENT_LABEL, SERVER_LABEL, handshakeMac, macMatches, newNonce, type HandshakeFields } from './handshake';
import { backoffDelayMs, nextLinkState, type BackoffPolicy, type LinkEvent, type LinkState } from './link-state';
import type { FrameSink, Outbox } from './outbox';
import type { PeerAddress } from './types';
import { SEND_OPTIONS } from './ws-server-link';

export interface ClientLinkOptions {
  core: TransportCore;
  secret: Buffer;
  topologyId: string;
  handshakeTimeoutMs: number;
  backoff: BackoffPolicy;
  random: Random;
  /** ws's wait for the peer's close frame before destroying the socket. */
  closeTimeoutMs: number;
  /** Every socket made, so the transport can wait for all of them on close. */
  track(ws: WebSocket): void;
}

/**
 * Links between workers mask nothing: masking guards browsers' intermediaries, not a private
 * worker-to-worker link, and an all-zero mask lets ws skip XORing every byte on both ends.
 */
const NO_MASK = (): void => {};

/**
 * The link this worker opens to one peer. Its tuples flow on it; the peer's BACKPRESSURE comes
 * back on it. Connects, proves the secret, checks the peer's proof and id, then attaches the
 * outbox; on any loss it detaches the outbox and reconnects after a capped, jittered backoff.
 */
export class WsClientLink {
  private state: LinkState = 'closed';
  private ws: WebSocket | null = null;
  private timer: TimerHandle | null = null;
  private attempt = 0;
  /** Consecutive failed attempts, for logging at 1, 2, 4, 8, ... */
  private failures = 0;
  private fields: HandshakeFields | null = null;
  private lastProblem = '';

  constructor(
    readonly peer: string,
    private address: PeerAddress,
    readonly outbox: Outbox,
    private readonly opts: ClientLinkOptions,
  ) {}

  linkState(): LinkState {
    return this.state;
  }

  start(): void {
    this.state = 'connecting';
    this.connect();
  }

  /** The peer moved: reconnect to the new address (nothing happens if it did not change). */
  repoint(address: PeerAddress): void {
    if (address.host === this.address.host && address.port === this.address.port) return;
    this.address = { host: address.host, port: address.port };
    this.fire('repoint');
  }

  close(): void {
    this.fire('close');
  }

  private fire(event: LinkEvent): void {
    const next = nextLinkState(this.state, event);
    if (next === undefined) return;
    const prev = this.state;
    this.state = next;
    if (prev === 'open') this.outbox.detach();
    if (next !== 'handshaking') this.clearTimer(); // the handshake timer runs from connect to open
    switch (next) {
      case 'connecting':
        this.dropSocket(CloseCode.GOING_AWAY, 'the peer moved');
        this.connect();
        break;
      case 'handshaking':
        break;
      case 'open':
        this.opened();
        break;
      case 'backoff': {
        this.dropSocket(CloseCode.GOING_AWAY, 'reconnecting');
        const delay = backoffDelayMs(this.attempt++, this.opts.backoff, this.opts.random);
        this.timer = this.opts.core.clock.setTimeout(() => {
          this.timer = null;
          this.fire('retry');
        }, delay);
        break;
      }
      case 'closed':
        this.dropSocket(CloseCode.GOING_AWAY, 'worker closing');
        break;
    }
  }

  private connect(): void {
    const { host, port } = this.address;
    const url = `ws://${host.includes(':') ? `[${host}]` : host}:${port}/`;
    const options: ClientOptions & { closeTimeout: number } = {
      perMessageDeflate: false,
      maxPayload: this.opts.core.frameBytesMax,
      handshakeTimeout: this.opts.handshakeTimeoutMs,
      generateMask: NO_MASK,
      skipUTF8Validation: true,
      closeTimeout: this.opts.closeTimeoutMs,
    };
    const ws = new WebSocket(url, options);
    this.ws = ws;
    this.fields = null;
    this.opts.track(ws);
    ws.on('open', () => {
      if (ws === this.ws) this.fire('upgraded');
    });
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (ws === this.ws) this.onMessage(data, isBinary);
    });
    // 'close' always follows; an error listener must stay for as long as the socket lives
    ws.on('error', (err: Error) => {
      if (ws === this.ws) this.lastProblem = err.message;
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.lost(code === 1006 || code === 1005 ? this.lastProblem || 'connection lost' : `closed by the peer: ${code} ${reason.toString() || closeErrorCode(code)}`);
    });
    this.timer = this.opts.core.clock.setTimeout(() => {
      this.timer = null;
      this.fail(linkError(CloseCode.HANDSHAKE_TIMEOUT, `no AUTH_OK within ${this.opts.handshakeTimeoutMs} ms`));
    }, this.opts.handshakeTimeoutMs);
  }

  private onMessage(data: RawData, isBinary: boolean): void {
    try {
      if (!isBinary) throw linkError(CloseCode.FRAME_MALFORMED, 'a text message (frames are binary)');
      const frame = data as Buffer;
      if (this.state === 'open') this.opts.core.replyFrame(this.peer, this.outbox, frame);
      else if (this.state === 'handshaking') this.handshake(frame);
    } catch (err) {
      this.fail(err);
    }
  }

  private handshake(frame: Buffer): void {
    const core = this.opts.core;
    const kind = frameKind(frame, HANDSHAKE_FRAME_BYTES_MAX);
    if (this.fields === null) {
      if (kind !== FrameKind.CHALLENGE) throw linkError(CloseCode.HANDSHAKE_UNEXPECTED, `${FRAME_KIND_NAMES[kind]} before CHALLENGE`);
      const challenge = decodeChallenge(core.unpackr, frame);
      if (challenge.serverId !== this.peer) throw linkError(CloseCode.HANDSHAKE_PEER_MISMATCH, `expected worker "${this.peer}", found "${challenge.serverId}"`);
      const fields = { serverNonce: challenge.nonce, clientNonce: newNonce(), serverId: challenge.serverId, clientId: core.workerKey, topologyId: this.opts.topologyId };
      this.fields = fields;
      const mac = handshakeMac(this.opts.secret, CLIENT_LABEL, fields);
      this.ws!.send(encodeAuth(core.packr, { clientId: fields.clientId, topologyId: fields.topologyId, clientNonce: fields.clientNonce, mac }), SEND_OPTIONS);
      return;
    }
    if (kind !== FrameKind.AUTH_OK) throw linkError(CloseCode.HANDSHAKE_UNEXPECTED, `${FRAME_KIND_NAMES[kind]} before AUTH_OK`);
    const ok = decodeAuthOk(core.unpackr, frame);
    if (!macMatches(this.opts.secret, SERVER_LABEL, this.fields, ok.mac)) throw linkError(CloseCode.HANDSHAKE_BAD_MAC, `worker "${this.peer}" did not prove the cluster secret`);
    this.fire('authenticated');
  }

  private opened(): void {
    const ws = this.ws!;
    const sink: FrameSink = { send: (frame, done) => ws.send(frame, SEND_OPTIONS, done) };
    const after = this.failures;
    this.attempt = 0;
    this.failures = 0;
    this.lastProblem = '';
    this.opts.core.logger.info({ peer: this.peer, failedAttempts: after }, `link to worker ${this.peer} open`);
    this.outbox.attach(sink);
  }

  /** A protocol violation by the peer: close with a coded reason, then back off. */
  private fail(err: unknown): void {
    const closeCode = isLinkError(err) ? err.closeCode : CloseCode.INTERNAL;
    const detail = isLinkError(err) ? `${err.code}: ${err.detail}` : describeError(err);
    this.dropSocket(closeCode, isLinkError(err) ? err.detail : 'internal error');
    this.lost(detail);
  }

  private lost(why: string): void {
    if (this.state === 'closed' || this.state === 'backoff') return;
    this.failures++;
    if ((this.failures & (this.failures - 1)) === 0) {
      this.opts.core.logger.warn({ peer: this.peer, failures: this.failures, code: 'ERR_LINK_CLOSED' }, `link to worker ${this.peer} lost: ${why}`);
    }
    this.fire('lost');
  }

  private dropSocket(closeCode: number, detail: string): void {
    const ws = this.ws;
    this.ws = null;
    if (ws === null) return;
    if (ws.readyState === WebSocket.OPEN) ws.close(closeCode, closeReason(closeCode, detail));
    else ws.terminate();
  }

  private clearTimer(): void {
    if (this.timer !== null) this.opts.core.clock.clear(this.timer);
    this.timer = null;
  }
}
