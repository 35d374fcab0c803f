/**
 * The supervisor's log server (Storm's logviewer, simplified): serves the log files of this
 * machine's workers to Nimbus, which serves them to the UI and `squall logs`
 * (docs/rest-api.md, "Worker logs"). Read-only, GET only, JSON only:
 *
 *   GET /api/v1/logs/<topologyId>/<port>                  the worker's log files
 *   GET /api/v1/logs/<topologyId>/<port>/page?file=&start=&length=
 *   GET /api/v1/logs/<topologyId>/<port>/search?q=&file=&start=&limit=&ignoreCase=
 *
 * A request names a topology id, a port and a file name from a fixed set, never a path, and the
 * reader opens nothing outside the worker's own log directory. When `nimbus.auth.token` is set,
 * every request needs it (the same bearer check as Nimbus's REST API); without a token the server
 * refuses to listen beyond loopback.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cfg, isLoopback, type DaemonConfig } from '../common/config';
import { squallError } from '../common/errors';
import { hasBearerToken, sendError, sendJson } from '../common/http-json';
import type { Logger } from '../common/logging';
import { logsRootOf, workerLogDir } from './log-files';
import { PAGE_BYTES_DEFAULT, WorkerLogReader } from './log-reader';

export interface LogviewerDeps {
  logsRoot: string;
  filesMax: number;
  token: string | null;
  logger: Logger;
}

const PREFIX = '/api/v1/logs/';
const QUERY_CHARS_MAX = 256;

function intParam(q: URLSearchParams, name: string, fallback: number | null, max = Number.MAX_SAFE_INTEGER): number | null {
  const raw = q.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d{1,16}$/.test(raw) || Number(raw) > max) throw squallError('ERR_BODY_INVALID', `${name} must be a whole number from 0 to ${max} (got ${JSON.stringify(raw.slice(0, 40))})`);
  return Number(raw);
}

async function answer(deps: LogviewerDeps, req: IncomingMessage): Promise<unknown> {
  const url = new URL(req.url ?? '/', 'http://logviewer.invalid');
  if (!url.pathname.startsWith(PREFIX)) throw squallError('ERR_ROUTE_NOT_FOUND', 'no endpoint at that path');
  let parts: string[];
  try {
    parts = url.pathname.slice(PREFIX.length).split('/').map(decodeURIComponent);
  } catch {
    throw squallError('ERR_ROUTE_NOT_FOUND', 'no endpoint at that path');
  }
  const [topologyId, portText, what] = parts;
  if (parts.length < 2 || parts.length > 3 || !/^\d{1,5}$/.test(portText) || (what !== undefined && what !== 'page' && what !== 'search')) {
    throw squallError('ERR_ROUTE_NOT_FOUND', 'no endpoint at that path');
  }
  const port = Number(portText);
  const reader = new WorkerLogReader(deps.logsRoot, workerLogDir(deps.logsRoot, topologyId, port), deps.filesMax);
  const q = url.searchParams;
  const file = q.get('file');
  if (what === undefined) return { topologyId, port, files: await reader.files() };
  if (what === 'page') {
    const page = await reader.page(file, intParam(q, 'start', null), intParam(q, 'length', PAGE_BYTES_DEFAULT, 1 << 30) as number);
    return { topologyId, port, ...page };
  }
  const query = q.get('q') ?? '';
  if (query.length === 0 || query.length > QUERY_CHARS_MAX) throw squallError('ERR_BODY_INVALID', `q must be 1 to ${QUERY_CHARS_MAX} characters`);
  const found = await reader.search(file, query, intParam(q, 'start', 0) as number, intParam(q, 'limit', 100, 1 << 20) as number, q.get('ignoreCase') === 'true');
  return { topologyId, port, ...found };
}

export function buildLogviewerApp(deps: LogviewerDeps): (req: IncomingMessage, res: ServerResponse) => void {
  const logger = deps.logger.child({ component: 'logviewer' });
  return (req, res) => {
    res.on('error', (err) => logger.debug({ err }, 'response stream failed'));
    const refuse = (err: unknown, headers: Record<string, string> = {}): void => sendError(res, err, logger, headers);
    if (req.method !== 'GET') {
      refuse(squallError('ERR_METHOD_NOT_ALLOWED', `${req.method} is not allowed; the log server is read-only`), { Allow: 'GET' });
      return;
    }
    if (deps.token !== null && !hasBearerToken(req, deps.token)) {
      refuse(squallError('ERR_UNAUTHORIZED', 'the log server needs "Authorization: Bearer <nimbus.auth.token>"'), { 'WWW-Authenticate': 'Bearer' });
      return;
    }
    answer(deps, req).then((body) => sendJson(res, 200, body), refuse);
  };
}

/** Refuses a log server beyond loopback without a token (ERR_INSECURE_LISTEN), as Nimbus does. */
export function checkLogviewerListen(config: DaemonConfig): void {
  const host = cfg.str(config, 'logviewer.bind.host');
  if (!isLoopback(host) && cfg.strOrNull(config, 'nimbus.auth.token') === null) {
    throw squallError('ERR_INSECURE_LISTEN', `logviewer.bind.host is ${host}; set nimbus.auth.token to listen beyond loopback`);
  }
}

export interface RunningLogviewer {
  port: number;
  close(): Promise<void>;
}

/**
 * Starts the log server on `logviewer.bind.host`:`logviewer.port` for the workers under
 * `<storm.local.dir>/logs`. Refuses to listen beyond loopback without a token (ERR_INSECURE_LISTEN).
 */
export async function startLogviewer(config: DaemonConfig, logger: Logger): Promise<RunningLogviewer> {
  checkLogviewerListen(config);
  const host = cfg.str(config, 'logviewer.bind.host');
  const token = cfg.strOrNull(config, 'nimbus.auth.token');
  const server = createServer(
    buildLogviewerApp({ logsRoot: logsRootOf(cfg.str(config, 'storm.local.dir')), filesMax: cfg.num(config, 'worker.log.max.files'), token, logger }),
  );
  server.requestTimeout = 30_000;
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.num(config, 'logviewer.port'), host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;
  return {
    port,
    close: () =>
      (closing ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}
