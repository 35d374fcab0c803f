/**
 * The part of node-zookeeper-client 1.1.3 the ZooKeeper store uses, typed (the package ships no
 * declarations), with the two repairs it needs at load and on close: unknown server error codes
 * made ordinary errors, and a socket dropped without leaking its connect timer.
 */
import { describeError, squallError } from '../errors';
import type { WatchEventType } from './store';

// The subset of node-zookeeper-client this file uses (the package ships no type declarations).
export interface ZkStat {
  version: number;
}
export interface ZkEvent {
  getType(): number;
  getPath(): string;
}
export type ZkWatcher = (event: ZkEvent) => void;
export type ZkCallback<T> = (err: { code?: unknown } | null | undefined, value?: T, stat?: ZkStat) => void;
export interface ZkConnectionManager {
  state: number;
  socket?: { destroy(): void; on(event: 'data', listener: () => void): void };
  connectTimeoutHandler?: ReturnType<typeof setTimeout> | null;
  on(event: 'state', listener: (state: number) => void): void;
}
export interface ZkClient {
  readonly connectionManager: ZkConnectionManager;
  connect(): void;
  close(): void;
  on(event: 'state', listener: (state: { code: number }) => void): void;
  getSessionId(): Buffer;
  getSessionPassword(): Buffer;
  getSessionTimeout(): number;
  create(path: string, data: Buffer, mode: number, cb: ZkCallback<string>): void;
  setData(path: string, data: Buffer, version: number, cb: ZkCallback<ZkStat>): void;
  getData(path: string, watcher: ZkWatcher | undefined, cb: ZkCallback<Buffer | undefined>): void;
  exists(path: string, watcher: ZkWatcher | undefined, cb: ZkCallback<ZkStat | null>): void;
  getChildren(path: string, watcher: ZkWatcher | undefined, cb: ZkCallback<string[]>): void;
  remove(path: string, version: number, cb: ZkCallback<void>): void;
}
export interface ZkExceptionModule {
  readonly [name: string]: unknown;
  create(code: number, path?: string): Error & { code: number; name: string };
  NO_NODE: number;
  NODE_EXISTS: number;
  BAD_VERSION: number;
  NOT_EMPTY: number;
  NO_CHILDREN_FOR_EPHEMERALS: number;
  SYSTEM_ERROR: number;
}
export interface ZkModule {
  createClient(connectString: string, options: { sessionTimeout: number; spinDelay: number; retries: number }): ZkClient;
  Exception: ZkExceptionModule;
}
export const zookeeper = require('node-zookeeper-client') as ZkModule;
const TOLERANT = Symbol.for('squall.zk.tolerantErrorCodes');
tolerateUnknownErrorCodes(zookeeper.Exception);

export const MODE = { persistent: 0, ephemeral: 1, persistentSequential: 2, ephemeralSequential: 3 } as const;
/** Client states (`State#code`) and connection-manager states the library uses. */
export const STATE_DISCONNECTED = 0;
export const STATE_SYNC_CONNECTED = 3;
export const STATE_AUTH_FAILED = 4;
export const STATE_EXPIRED = -122;
export const CM_CONNECTING = 1;
export const CM_CONNECTED = 2;
export const CM_CLOSED = -2;
export const EVENT_TYPES: Record<number, WatchEventType> = { 1: 'created', 2: 'deleted', 3: 'dataChanged', 4: 'childrenChanged' };

export function mapZkError(err: { code?: unknown }, what: string): Error {
  const E = zookeeper.Exception;
  const detail = `${what}: ${describeError(err)}`;
  switch (err.code) {
    case E.NO_NODE:
      return squallError('ERR_STATE_NO_NODE', detail, { cause: err });
    case E.NODE_EXISTS:
      return squallError('ERR_STATE_NODE_EXISTS', detail, { cause: err });
    case E.BAD_VERSION:
      return squallError('ERR_STATE_CONFLICT', detail, { cause: err });
    case E.NOT_EMPTY:
      return squallError('ERR_STATE_CONFLICT', `${what}: node has children`, { cause: err });
    case E.NO_CHILDREN_FOR_EPHEMERALS:
      return squallError('ERR_STATE_STORE', `${what}: ephemeral nodes cannot have children`, { cause: err });
    default:
      return squallError('ERR_STATE_STORE', detail, { cause: err });
  }
}

/**
 * The library knows ZooKeeper 3.4's error codes only, and its `Exception.create` throws on any
 * other, from inside its socket 'data' handler: an uncaught exception that kills the process.
 * 3.5+ servers send more: UNKNOWNSESSION (-12) was seen here when a session was closed from
 * another connection; SESSIONMOVED (-118) and THROTTLEDOP (-127) happen in real clusters. Make
 * an unknown code an ordinary error (SYSTEM_ERROR's shape, the real code kept) so it reaches
 * the request's callback. Once per loaded copy of the module.
 */
function tolerateUnknownErrorCodes(exceptions: ZkExceptionModule): void {
  const target = exceptions as unknown as Record<symbol, boolean> & { create: ZkExceptionModule['create'] };
  if (target[TOLERANT]) return;
  target[TOLERANT] = true;
  const known = new Set(Object.values(exceptions).filter((v): v is number => typeof v === 'number'));
  const create = exceptions.create;
  target.create = (code, path) => {
    if (known.has(code)) return create(code, path);
    const err = create(exceptions.SYSTEM_ERROR, path);
    err.code = code;
    err.name = 'UNKNOWN_ERROR_CODE';
    err.message = `Exception: ZooKeeper error code ${code}${path ? `@${path}` : ''}`;
    return err;
  };
}

/**
 * Destroys the library's socket. Its TCP connect timer is cleared only on 'connect' or 'error',
 * and a destroyed socket emits neither, so clear it too or it outlives the client.
 */
export function dropSocket(cm: ZkConnectionManager): void {
  if (cm.connectTimeoutHandler) clearTimeout(cm.connectTimeoutHandler);
  cm.connectTimeoutHandler = null;
  cm.socket?.destroy();
}

export function toBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

