/**
 * One NATS connection for a spout or sink task, and what the JetStream connectors share about it:
 * the connection options, error classification and a live status.
 *
 * The `nats` client reconnects by itself and keeps the same connection object (so a message
 * received before a server restart can still be acknowledged after it); we give it the core's
 * capped, jittered backoff for its reconnect delays and no attempt limit. While it is
 * disconnected, `problem()` says so, which the adapters turn into a coded error (it shows in REST)
 * and the core's own reconnect backoff. A connection the client has given up on (closed) is
 * replaced by a new one at the next `open()`.
 */
import { connect, type NatsConnection, type ConnectionOptions } from 'nats';
import type { SquallError } from '../../topology-api';
import { Backoff, connectorError, messageOf, stringOption, type BackoffOptions, type Operation, type Rng } from '../core';

export const SYSTEM = 'nats';

/** How to reach the server (spout and sink). */
export interface NatsConnectionOptions {
  /** `nats://host:port`, or several for a cluster. */
  servers: string | string[];
  user?: string;
  password?: string;
  token?: string;
  /** Connection name the server shows (monitoring). Default `squall-<component>-<task>`. */
  connectionName?: string;
  /** Bound on one connection attempt (TCP + handshake). Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Client pings the server this often; two missed pongs drop the connection. Default 10000 ms. */
  pingIntervalMs?: number;
}

export function connectionProblems(o: NatsConnectionOptions): (string | undefined)[] {
  const servers = Array.isArray(o.servers) ? o.servers : [o.servers];
  return [
    servers.length === 0 || servers.some((s) => typeof s !== 'string' || s.length === 0) ? `"servers" must be a URL or a list of URLs (got ${JSON.stringify(o.servers)})` : undefined,
    stringOption('user', o.user),
    o.password !== undefined && typeof o.password !== 'string' ? '"password" must be a string' : undefined,
    stringOption('token', o.token),
    o.user !== undefined && o.token !== undefined ? 'give "user"/"password" or "token", not both' : undefined,
  ];
}

const AUTH_CODES = new Set(['AUTHORIZATION_VIOLATION', 'AUTHENTICATION_EXPIRED', 'AUTHENTICATION_TIMEOUT', 'BAD_AUTHENTICATION', 'BAD_CREDS', 'PERMISSIONS_VIOLATION', 'ACCOUNT_EXPIRED']);
const CONNECT_CODES = new Set(['CONNECTION_REFUSED', 'CONNECTION_CLOSED', 'CONNECTION_TIMEOUT', 'CONNECTION_DRAINING', 'DISCONNECT', 'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE']);

/** Maps the `nats` client's errors (`err.code`) to the connector codes. */
export function classifyNatsError(err: unknown, during: Operation, where: string): SquallError {
  const code = typeof err === 'object' && err !== null ? String((err as { code?: unknown }).code ?? '') : '';
  const detail = `${during} ${where}: ${messageOf(err)}${code && !messageOf(err).includes(code) ? ` (${code})` : ''}`;
  if (AUTH_CODES.has(code)) return connectorError('ERR_CONNECTOR_AUTH', SYSTEM, detail, err);
  if (CONNECT_CODES.has(code) || during === 'connect') return connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, detail, err);
  return connectorError('ERR_CONNECTOR_IO', SYSTEM, detail, err);
}

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;
const DEFAULT_PING_INTERVAL_MS = 10_000;
/** How long `open()` waits for a reconnecting client before it reports the outage again. */
const RECONNECT_WAIT_MS = 2000;

/**
 * The task's connection: opened by `open()`, watched, closed by `close()`. Not a pool: each task
 * has its own, as each Storm spout task has its own consumer.
 */
export class NatsLink {
  private nc: NatsConnection | null = null;
  private down: string | null = null;
  private closed = false;
  private readonly waiters = new Set<() => void>();
  private downHandler: ((why: string) => void) | null = null;

  constructor(
    private readonly options: NatsConnectionOptions,
    private readonly name: string,
    private readonly reconnectBackoff: BackoffOptions,
    private readonly random: Rng,
  ) {}

  /** The server(s), for messages. */
  where(): string {
    return Array.isArray(this.options.servers) ? this.options.servers.join(',') : this.options.servers;
  }

  /** The connection, opened if there is none; waits (bounded) for one the client is re-making. */
  async open(): Promise<NatsConnection> {
    if (this.closed) throw connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, 'the connection is closed');
    if (this.nc !== null && !this.nc.isClosed()) {
      if (this.down !== null) await this.waitUp(RECONNECT_WAIT_MS);
      const problem = this.problem();
      if (problem !== null) throw problem;
      return this.nc;
    }
    const o = this.options;
    const backoff = new Backoff(this.reconnectBackoff, this.random);
    const opts: ConnectionOptions = {
      servers: o.servers,
      name: o.connectionName ?? this.name,
      timeout: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      pingInterval: o.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
      maxPingOut: 2,
      maxReconnectAttempts: -1,
      reconnectDelayHandler: () => backoff.next(),
      noEcho: true,
    };
    if (o.user !== undefined) Object.assign(opts, { user: o.user, pass: o.password ?? '' });
    if (o.token !== undefined) opts.token = o.token;
    const nc = await connect(opts);
    if (this.closed) {
      await nc.close().catch(() => undefined);
      throw connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, 'the connection is closed');
    }
    this.nc = nc;
    this.down = null;
    void this.watch(nc, backoff);
    return nc;
  }

  /** The connection if it is up (for acknowledgements, which need no waiting). */
  current(): NatsConnection | null {
    return this.nc !== null && !this.nc.isClosed() && this.down === null ? this.nc : null;
  }

  /** Why the connection is not usable now, as a coded error; null when it is up. */
  problem(): SquallError | null {
    if (this.nc === null || this.nc.isClosed()) return connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, `not connected to ${this.where()}`);
    if (this.down !== null) return connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, `connection to ${this.where()} lost, reconnecting: ${this.down}`);
    return null;
  }

  /**
   * Calls `handler` when the connection goes down by itself (disconnected, a protocol error, or
   * the client gave up), once per outage; never for a connection this link closes.
   */
  onDown(handler: (why: string) => void): void {
    this.downHandler = handler;
  }

  private setDown(why: string): void {
    const was = this.down;
    this.down = why;
    if (was === null && !this.closed) this.downHandler?.(why);
  }

  private async watch(nc: NatsConnection, backoff: Backoff): Promise<void> {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') this.setDown(`disconnected from ${String(s.data)}`);
      else if (s.type === 'error') this.setDown(`${messageOf(s.data)}`);
      else if (s.type === 'reconnect') {
        this.down = null;
        backoff.reset();
        this.wakeAll();
      }
    }
    // the client gave up (or we closed it)
    if (this.nc === nc) this.setDown('closed');
    this.wakeAll();
  }

  private waitUp(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }

  private wakeAll(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Flushes and closes; idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    this.wakeAll();
    const nc = this.nc;
    this.nc = null;
    if (nc !== null && !nc.isClosed()) await nc.drain().catch(() => nc.close().catch(() => undefined));
  }
}
