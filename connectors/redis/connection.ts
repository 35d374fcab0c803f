import Redis from 'ioredis';
import type { SquallError } from '../../topology-api';
import { connectorError, intOption, messageOf, stringOption, type Operation } from '../core';

export const SYSTEM = 'redis';

/** Where and how to connect (every Redis connector takes these). */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]`; or the parts below. Default `redis://127.0.0.1:6379`. */
  url?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  db?: number;
  /** Bound on establishing a connection. Default 5000 ms. */
  connectTimeoutMs?: number;
}

export function connectionProblems(o: RedisConnectionOptions): (string | undefined)[] {
  return [
    stringOption('url', o.url),
    stringOption('host', o.host),
    intOption('port', o.port, 1),
    intOption('db', o.db, 0),
    intOption('connectTimeoutMs', o.connectTimeoutMs, 1),
    o.url !== undefined && !/^rediss?:\/\//.test(o.url) ? `"url" must start with redis:// (got ${JSON.stringify(o.url)})` : undefined,
  ];
}

/** How long ioredis waits for a closing socket before destroying it (its default is 2 s). */
export const DISCONNECT_TIMEOUT_MS = 200;

/** A client whose reconnects the connector's core drives (capped, jittered), not ioredis. */
export function createClient(o: RedisConnectionOptions, name: string, onError: (err: unknown) => void): Redis {
  const common = {
    lazyConnect: true,
    // fail fast instead of queueing while disconnected: the core backs off and reconnects
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: o.connectTimeoutMs ?? 5000,
    // disconnect() of a connection already lost arms ioredis's socket-destroy timer with nothing to
    // clear it (the socket's 'close' has fired): keep it short so it never holds a process open
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
    connectionName: name,
    ...(o.host !== undefined ? { host: o.host } : {}),
    ...(o.port !== undefined ? { port: o.port } : {}),
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.db !== undefined ? { db: o.db } : {}),
  };
  const client = o.url !== undefined ? new Redis(o.url, common) : new Redis({ host: '127.0.0.1', port: 6379, ...common });
  // without a listener ioredis prints "Unhandled error event"; the operation that failed reports it
  client.on('error', onError);
  return client;
}

/**
 * Connects, bounded by `timeoutMs`. ioredis rejects a failed connect with "Connection is closed."
 * and emits the cause (ECONNREFUSED, WRONGPASS, ...) as an 'error' event; and a connection whose
 * AUTH was refused can stay open without ever becoming ready. So this waits for ready, the first
 * error, or the bound — whichever comes first — and rejects with the cause.
 */
export function connectClient(client: Redis, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeListener('error', onError);
      if (err === null) resolve();
      else {
        client.disconnect();
        reject(err);
      }
    };
    const onError = (err: unknown): void => finish(err);
    const timer = setTimeout(() => finish(Object.assign(new Error(`connect ETIMEDOUT (not ready within ${timeoutMs} ms)`), { code: 'ETIMEDOUT' })), timeoutMs);
    client.on('error', onError);
    client.connect().then(
      () => finish(null),
      (err: unknown) => setImmediate(() => finish(err)), // let a pending 'error' event (the cause) win
    );
  });
}

/** The bound on a connection attempt. */
export function connectTimeoutOf(o: RedisConnectionOptions): number {
  return o.connectTimeoutMs ?? 5000;
}

/** Disconnects at once (pending commands reject); never throws. */
export function dropClient(client: Redis | null): void {
  if (client === null) return;
  client.removeAllListeners('error');
  client.on('error', () => undefined);
  client.disconnect();
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);

/** Maps an ioredis error to a connector code: refused credentials, lost connection, or a failed command. */
export function classifyRedisError(err: unknown, during: Operation, where: string): SquallError {
  const message = messageOf(err);
  const code = (err as { code?: unknown } | null)?.code;
  if (/^(WRONGPASS|NOAUTH|NOPERM)\b/.test(message) || /invalid (username-)?password|ERR AUTH/i.test(message)) {
    return connectorError('ERR_CONNECTOR_AUTH', SYSTEM, `${where}: ${message}`, err);
  }
  if (
    (typeof code === 'string' && CONNECT_CODES.has(code)) ||
    /Connection is closed|connect ETIMEDOUT|Stream isn't writeable|enableOfflineQueue|Reached the max retries|LOADING/.test(message)
  ) {
    return connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, `${where}: ${during}: ${message}`, err);
  }
  return connectorError('ERR_CONNECTOR_IO', SYSTEM, `${where}: ${during}: ${message}`, err);
}

/** `host:port` of the options, for error details (never the password). */
export function describeTarget(o: RedisConnectionOptions): string {
  if (o.url !== undefined) {
    try {
      const u = new URL(o.url);
      return `${u.hostname}:${u.port || 6379}`;
    } catch {
      return 'redis';
    }
  }
  return `${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`;
}
