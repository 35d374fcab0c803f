/**
 * One MQTT client (mqtt.js 5) for a spout or sink task: options, error classification, and a
 * connect that resolves on CONNACK or rejects with the broker's refusal.
 *
 * mqtt.js's own reconnect (a fixed period, no backoff) is off: the connector core reconnects with
 * capped, jittered backoff, and `open()` replaces the previous client with a new one of the same
 * client id, which resumes the persistent session.
 */
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { SquallError } from '../../topology-api';
import { connectorError, messageOf, stringOption, type Operation } from '../core';

export const SYSTEM = 'mqtt';

export interface MqttConnectionOptions {
  /** `mqtt://host:port` (or `mqtts://`). */
  url: string;
  username?: string;
  password?: string;
  /** MQTT 5 (default) or 3.1.1 (`4`). */
  protocolVersion?: 4 | 5;
  /** Keep-alive: the broker drops a client silent for 1.5 × this. Default 10 s. */
  keepaliveSecs?: number;
  /** Bound on one connection attempt, until CONNACK. Default 5000 ms. */
  connectTimeoutMs?: number;
}

export function connectionProblems(o: MqttConnectionOptions): (string | undefined)[] {
  return [
    typeof o.url !== 'string' || !/^(mqtts?|wss?|tcp|ssl):\/\//.test(o.url) ? `"url" must be an mqtt:// URL (got ${JSON.stringify(o.url)})` : undefined,
    stringOption('username', o.username),
    o.password !== undefined && typeof o.password !== 'string' ? '"password" must be a string' : undefined,
    o.protocolVersion !== undefined && o.protocolVersion !== 4 && o.protocolVersion !== 5 ? '"protocolVersion" must be 4 (3.1.1) or 5' : undefined,
  ];
}

/** CONNACK codes that refuse the client's identity: 3.1.1 (4, 5) and 5 (134, 135, 138, 140). */
const AUTH_CODES = new Set([4, 5, 134, 135, 138, 140]);
const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE']);

/** Maps mqtt.js errors (CONNACK reason codes as numbers, socket errors as strings) to the connector codes. */
export function classifyMqttError(err: unknown, during: Operation, where: string): SquallError {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const detail = `${during} ${where}: ${messageOf(err)}${code !== undefined ? ` (${String(code)})` : ''}`;
  if (typeof code === 'number' && AUTH_CODES.has(code)) return connectorError('ERR_CONNECTOR_AUTH', SYSTEM, detail, err);
  if ((typeof code === 'string' && CONNECT_CODES.has(code)) || during === 'connect' || /connection closed|client disconnecting|not connected/i.test(messageOf(err))) {
    return connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, detail, err);
  }
  return connectorError('ERR_CONNECTOR_IO', SYSTEM, detail, err);
}

const END_GRACE_MS = 2000;

export class MqttLink {
  private client: MqttClient | null = null;
  private epochN = 0;
  private closed = false;
  private lost: string | null = null;

  constructor(
    private readonly options: MqttConnectionOptions,
    private readonly clientOptions: IClientOptions,
  ) {}

  where(): string {
    return this.options.url;
  }

  /** Bumps with every CONNACK: packet ids of an older connection mean nothing now. */
  epoch(): number {
    return this.epochN;
  }

  /**
   * A new client (the previous one is ended first), resolved once the broker accepted it.
   * `prepare` runs on the client before it connects (handlers that must see the first packets).
   */
  async open(prepare?: (client: MqttClient) => void): Promise<MqttClient> {
    await this.dropCurrent();
    if (this.closed) throw connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, 'the connection is closed');
    const o = this.options;
    const client = connect(o.url, {
      ...this.clientOptions,
      username: o.username,
      password: o.password,
      protocolVersion: o.protocolVersion ?? 5,
      keepalive: o.keepaliveSecs ?? 10,
      connectTimeout: o.connectTimeoutMs ?? 5000,
      reconnectPeriod: 0,
      manualConnect: true,
    });
    prepare?.(client);
    this.client = client;
    await new Promise<void>((resolve, reject) => {
      const onConnect = (): void => {
        client.off('error', onError);
        client.off('close', onClose);
        resolve();
      };
      const onError = (err: Error): void => {
        client.off('connect', onConnect);
        client.off('close', onClose);
        client.end(true);
        reject(err);
      };
      const onClose = (): void => {
        client.off('connect', onConnect);
        client.off('error', onError);
        reject(Object.assign(new Error(`connection to ${o.url} closed before CONNACK`), { code: 'ECONNRESET' }));
      };
      client.once('connect', onConnect);
      client.once('error', onError);
      client.once('close', onClose);
      client.connect();
    });
    this.epochN++;
    this.lost = null;
    client.on('close', () => {
      if (this.client === client) this.lost ??= 'connection closed';
    });
    client.on('error', (err: Error) => {
      if (this.client === client) this.lost = messageOf(err);
    });
    return client;
  }

  /** The client if it is connected. */
  current(): MqttClient | null {
    return this.client !== null && this.lost === null && this.client.connected ? this.client : null;
  }

  /** Marks `client` (if still the current one) lost: the next poll reports it and the core reconnects. */
  markLost(client: MqttClient, reason: string): void {
    if (this.client === client) this.lost ??= reason;
  }

  problem(): SquallError | null {
    if (this.client === null) return connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, `not connected to ${this.where()}`);
    if (this.lost !== null || !this.client.connected) return classifyMqttError(new Error(this.lost ?? 'connection closed'), 'poll', this.where());
    return null;
  }

  private async dropCurrent(): Promise<void> {
    const c = this.client;
    this.client = null;
    if (c === null) return;
    // a graceful DISCONNECT waits for our in-flight publishes: bounded, then forced
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        c.end(true);
        resolve();
      }, END_GRACE_MS);
    });
    await Promise.race([c.endAsync(!c.connected).catch(() => undefined), forced]);
    clearTimeout(timer);
  }

  /** DISCONNECT (the persistent session stays at the broker); idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.dropCurrent();
  }
}
