/**
 * One AMQP 0-9-1 connection (amqplib) for a spout or sink task, and what the RabbitMQ connectors
 * share about it: options, error classification and the connection's generation.
 *
 * amqplib's own connection recovery is not used: the connector core reconnects (capped, jittered
 * backoff, every failure reported), and `open()` replaces a broken connection with a new one.
 * Delivery tags belong to a channel, so every delivery carries the generation of the connection
 * it came on; an acknowledgement for an older generation is skipped (the broker requeued those
 * messages when the old channel closed, and acking an unknown tag would close the new channel).
 */
import { connect, type ChannelModel } from 'amqplib';
import type { SquallError } from '../../topology-api';
import { connectorError, messageOf, type Operation } from '../core';

export const SYSTEM = 'rabbitmq';

export interface RabbitMqConnectionOptions {
  /** `amqp://user:password@host:port/vhost` (default port 5672, vhost `/`). */
  url: string;
  /** AMQP heartbeat: a silent peer is declared dead after about two of these. Default 10 s. */
  heartbeatSecs?: number;
  /** Bound on one connection attempt (TCP + handshake). Default 5000 ms. */
  connectTimeoutMs?: number;
}

export function connectionProblems(o: RabbitMqConnectionOptions): (string | undefined)[] {
  return [
    typeof o.url !== 'string' || !/^amqps?:\/\//.test(o.url) ? `"url" must be an amqp:// or amqps:// URL (got ${JSON.stringify(redact(String(o.url)))})` : undefined,
    o.heartbeatSecs !== undefined && !(Number.isInteger(o.heartbeatSecs) && o.heartbeatSecs >= 0) ? '"heartbeatSecs" must be an integer >= 0' : undefined,
    o.connectTimeoutMs !== undefined && !(Number.isInteger(o.connectTimeoutMs) && o.connectTimeoutMs >= 1) ? '"connectTimeoutMs" must be an integer >= 1' : undefined,
  ];
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** AMQP reply codes that mean "not allowed": 403 ACCESS_REFUSED, 530 NOT_ALLOWED (vhost). */
const AUTH_PATTERN = /ACCESS[-_]REFUSED|\b403\b|NOT[-_]ALLOWED|\b530\b|authentication/i;
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'ECONNABORTED']);

/**
 * Maps amqplib's errors to the connector codes. amqplib gives socket errors a `code` but refused
 * logins and broker-closed channels only a message ("Handshake terminated by server: 403
 * (ACCESS-REFUSED)"), so those are recognised by the AMQP reply code in the text.
 */
export function classifyAmqpError(err: unknown, during: Operation, where: string): SquallError {
  const code = typeof err === 'object' && err !== null ? String((err as { code?: unknown }).code ?? '') : '';
  const message = messageOf(err);
  const detail = `${during} ${where}: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`;
  if (AUTH_PATTERN.test(message)) return connectorError('ERR_CONNECTOR_AUTH', SYSTEM, detail, err);
  if (CONNECT_CODES.has(code) || during === 'connect' || /connection closed|socket closed|heartbeat timeout|channel ended/i.test(message)) {
    return connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, detail, err);
  }
  return connectorError('ERR_CONNECTOR_IO', SYSTEM, detail, err);
}

export class AmqpLink {
  private model: ChannelModel | null = null;
  private gen = 0;
  private broken: string | null = null;
  private closed = false;
  private brokenHandler: ((why: string) => void) | null = null;

  constructor(
    private readonly options: RabbitMqConnectionOptions,
    private readonly name: string,
  ) {}

  where(): string {
    return redact(this.options.url);
  }

  /** Which connection deliveries came on; bumps with every new connection. */
  generation(): number {
    return this.gen;
  }

  /** Replaces any previous connection with a new one (the previous is closed, its channels with it). */
  async open(): Promise<ChannelModel> {
    await this.dropCurrent();
    if (this.closed) throw connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, 'the connection is closed');
    const o = this.options;
    // heartbeat is a URL parameter in amqplib; the socket options carry the timeout and name
    const url = new URL(o.url);
    if (!url.searchParams.has('heartbeat')) url.searchParams.set('heartbeat', String(o.heartbeatSecs ?? 10));
    const model: ChannelModel = await connect(url.toString(), { timeout: o.connectTimeoutMs ?? 5000, clientProperties: { connection_name: this.name } });
    if (this.closed) {
      await model.close().catch(() => undefined);
      throw connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, 'the connection is closed');
    }
    this.gen++;
    this.model = model;
    this.broken = null;
    model.on('error', (err: Error) => {
      if (this.model === model) this.markBroken(messageOf(err));
    });
    model.on('close', (err?: Error) => {
      if (this.model === model) this.markBroken(err ? messageOf(err) : 'closed by the broker');
    });
    return model;
  }

  /**
   * Calls `handler` when the current connection becomes unusable by itself (the broker closed it,
   * its socket or a channel of it failed); never for a connection this link closes.
   */
  onBroken(handler: (why: string) => void): void {
    this.brokenHandler = handler;
  }

  private markBroken(why: string): void {
    if (this.broken !== null || this.closed) return;
    this.broken = why;
    this.brokenHandler?.(why);
  }

  /** The connection if it is up. */
  current(): ChannelModel | null {
    return this.broken === null ? this.model : null;
  }

  /**
   * Marks connection `gen` unusable (a channel of it failed): the next open replaces it. Events
   * of an older connection (its channels closing after a replacement) change nothing.
   */
  fail(why: string, gen: number): void {
    if (gen === this.gen && this.model !== null) this.markBroken(why);
  }

  /** Why the connection is not usable now, as a coded error; null when it is up. */
  problem(): SquallError | null {
    if (this.model === null) return connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, `not connected to ${this.where()}`);
    if (this.broken !== null) return classifyAmqpError(new Error(this.broken), 'poll', this.where());
    return null;
  }

  private async dropCurrent(): Promise<void> {
    const m = this.model;
    this.model = null;
    if (m !== null) await m.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.dropCurrent();
  }
}
