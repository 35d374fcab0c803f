import { Client, type ClientConfig } from 'pg';
import type { SquallError } from '../../topology-api';
import { connectorError, intOption, messageOf, stringOption, type Operation } from '../core';

export const SYSTEM = 'postgresql';

/** Where and how to connect (every PostgreSQL connector takes these). */
export interface PgConnectionOptions {
  /** `postgres://user:password@host:port/database`; or the parts below (libpq's environment otherwise). */
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  /** Bound on establishing a connection. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Bound on one statement (server side, `statement_timeout`). Default 30000 ms. */
  statementTimeoutMs?: number;
}

export function connectionProblems(o: PgConnectionOptions): (string | undefined)[] {
  return [
    stringOption('connectionString', o.connectionString),
    stringOption('host', o.host),
    intOption('port', o.port, 1),
    stringOption('user', o.user),
    stringOption('database', o.database),
    intOption('connectTimeoutMs', o.connectTimeoutMs, 1),
    intOption('statementTimeoutMs', o.statementTimeoutMs, 1),
  ];
}

/** A connected client; its idle errors (the server went away) are routed to `onError`. */
export async function connectPg(o: PgConnectionOptions, applicationName: string, onError: (err: unknown) => void): Promise<Client> {
  const config: ClientConfig = {
    connectionString: o.connectionString,
    host: o.host,
    port: o.port,
    user: o.user,
    password: o.password,
    database: o.database,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 5000,
    statement_timeout: o.statementTimeoutMs ?? 30_000,
    application_name: applicationName,
  };
  const client = new Client(config);
  client.on('error', onError);
  try {
    await client.connect();
  } catch (err) {
    client.end().catch(() => undefined);
    throw err;
  }
  return client;
}

export async function endPg(client: Client | null): Promise<void> {
  if (client === null) return;
  client.removeAllListeners('error');
  client.on('error', () => undefined);
  await client.end().catch(() => undefined);
}

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006']);
const AUTH_CODES = new Set(['28P01', '28000', '42501']);

/** Maps a pg error to a connector code: refused credentials, lost connection, or a failed statement. */
export function classifyPgError(err: unknown, during: Operation, where: string): SquallError {
  const message = messageOf(err);
  const code = (err as { code?: unknown } | null)?.code;
  if ((typeof code === 'string' && AUTH_CODES.has(code)) || /password authentication failed|no pg_hba.conf entry/.test(message)) {
    return connectorError('ERR_CONNECTOR_AUTH', SYSTEM, `${where}: ${message}`, err);
  }
  if ((typeof code === 'string' && CONNECT_CODES.has(code)) || /Connection terminated|timeout expired|Client has encountered a connection error|not queryable|the database system is (starting up|shutting down)/i.test(message)) {
    return connectorError('ERR_CONNECTOR_CONNECT', SYSTEM, `${where}: ${during}: ${message}`, err);
  }
  return connectorError('ERR_CONNECTOR_IO', SYSTEM, `${where}: ${during}: ${message}${typeof code === 'string' ? ` (SQLSTATE ${code})` : ''}`, err);
}

/** `host:port/database` of the options, for error details (never the password). */
export function describeTarget(o: PgConnectionOptions): string {
  if (o.connectionString !== undefined) {
    try {
      const u = new URL(o.connectionString);
      return `${u.hostname}:${u.port || 5432}${u.pathname}`;
    } catch {
      return 'postgresql';
    }
  }
  return `${o.host ?? process.env.PGHOST ?? 'localhost'}:${o.port ?? 5432}/${o.database ?? ''}`;
}

/** A SQL identifier, quoted; `schema.table` is quoted part by part. */
export function quoteIdent(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}
