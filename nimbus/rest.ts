/**
 * Nimbus's REST app: a (req, res) handler for node:http, built by a factory (only main.ts
 * listens). Routes are in rest-routes.ts; this file does what every request shares: path matching,
 * 404/405, the bearer token, coded error replies, and never letting an exception escape.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../common/clock';
import { cfg, type DaemonConfig } from '../common/config';
import { squallError } from '../common/errors';
import type { Logger } from '../common/logging';
import { API_PREFIX } from '../common/protocol/rest';
import { hasBearerToken, sendError, sendJson } from './rest-http';
import { matchRoute, type NimbusApi, type RouteContext } from './rest-routes';
import type { UiAssets } from './ui-assets';

export type { NimbusApi } from './rest-routes';

export interface NimbusAppDeps {
  nimbus: NimbusApi;
  config: DaemonConfig;
  logger: Logger;
  clock: Clock;
  /** The web UI served at `/` (none: only the API answers). */
  ui?: UiAssets;
}

export type NimbusApp = (req: IncomingMessage, res: ServerResponse) => void;

/** Floor of a heartbeat batch's size cap (16 MiB): nimbus.request.max.bytes is for hand-made requests. */
const HEARTBEAT_BYTES_MIN = 16 << 20;

/** Bundle uploads read or checked at once; more get 503 ERR_BUSY before their body is read. */
const UPLOADS_IN_FLIGHT_MAX = 4;

export function buildNimbusApp(deps: NimbusAppDeps): NimbusApp {
  const logger = deps.logger.child({ component: 'rest' });
  const token = cfg.strOrNull(deps.config, 'nimbus.auth.token');
  const limits = {
    requestBytesMax: cfg.num(deps.config, 'nimbus.request.max.bytes'),
    bundleBytesMax: cfg.num(deps.config, 'nimbus.bundle.max.bytes'),
    // A supervisor's batch carries every executor's counters and histograms of its slots.
    heartbeatBytesMax: Math.max(HEARTBEAT_BYTES_MIN, cfg.num(deps.config, 'nimbus.request.max.bytes')),
  };
  const uploads = { inFlight: 0, max: UPLOADS_IN_FLIGHT_MAX };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (pathOnly(req.url) === METRICS_PATH) {
      await serveMetrics(req, res, deps.nimbus);
      return;
    }
    const segments = apiSegments(req.url ?? '/');
    const method = req.method ?? 'GET';
    if (!segments) {
      if (deps.ui && serveUi(deps.ui, req, res, method, logger)) return;
      throw squallError('ERR_ROUTE_NOT_FOUND', `no endpoint at ${pathOnly(req.url)}`);
    }
    const { route, params, allowed } = matchRoute(method, segments.path);
    if (!route && allowed.length > 0) {
      const err = squallError('ERR_METHOD_NOT_ALLOWED', `${method} ${pathOnly(req.url)}; allowed: ${allowed.join(', ')}`);
      sendError(res, err, logger, { ...closeIfUnread(req), Allow: allowed.join(', ') });
      return;
    }
    if (!route) throw squallError('ERR_ROUTE_NOT_FOUND', `no endpoint at ${pathOnly(req.url)}`);
    if (route.auth && token !== null && !hasBearerToken(req, token)) {
      const err = squallError('ERR_UNAUTHORIZED', 'this call needs "Authorization: Bearer <nimbus.auth.token>"');
      sendError(res, err, logger, { ...closeIfUnread(req), 'WWW-Authenticate': 'Bearer' });
      return;
    }
    const ctx: RouteContext = { req, res, params, query: segments.query, nimbus: deps.nimbus, limits, uploads };
    const reply = await route.handle(ctx);
    if (reply) sendJson(res, reply.status, reply.body, closeIfUnread(req));
  }

  return (req, res) => {
    const startedMs = deps.clock.now();
    res.on('finish', () => logger.debug({ method: req.method, url: pathOnly(req.url), status: res.statusCode, ms: Math.round(deps.clock.now() - startedMs) }, 'request'));
    res.on('error', (err) => logger.debug({ err }, 'response stream failed'));
    req.on('error', (err) => logger.debug({ err }, 'request stream failed'));
    handle(req, res).catch((err: unknown) => {
      try {
        sendError(res, err, logger, closeIfUnread(req));
      } catch (fatal) {
        logger.error({ err: fatal }, 'cannot answer a REST request');
        res.destroy();
      }
    });
  };
}

/** The UI's page and assets (GET and HEAD only); false when the path is not the UI's. */
function serveUi(ui: UiAssets, req: IncomingMessage, res: ServerResponse, method: string, logger: Logger): boolean {
  let pathname: string;
  try {
    pathname = new URL(req.url ?? '/', 'http://nimbus.invalid').pathname;
  } catch {
    return false;
  }
  if (method === 'GET' || method === 'HEAD') return ui.serve(req, res, pathname);
  if (pathname !== '/' && pathname !== '/index.html' && !pathname.startsWith('/assets/')) return false;
  sendError(res, squallError('ERR_METHOD_NOT_ALLOWED', `${method} ${pathOnly(req.url)}; allowed: GET, HEAD`), logger, { ...closeIfUnread(req), Allow: 'GET, HEAD' });
  return true;
}

/** Prometheus's scrape path, beside /api/v1 (docs/metrics.md); a read, so no token (like GETs). */
const METRICS_PATH = '/metrics';

async function serveMetrics(req: IncomingMessage, res: ServerResponse, nimbus: NimbusApi): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const err = squallError('ERR_METHOD_NOT_ALLOWED', `${req.method ?? ''} ${METRICS_PATH}; allowed: GET`);
    throw err;
  }
  const text = await nimbus.prometheusMetrics();
  res.writeHead(200, {
    'Content-Type': 'text/plain; version=0.0.4; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : text);
}

/**
 * Asks the client to close the connection when its request body was not read to the end (an early
 * error, a body over the cap): Node then closes the socket after the reply instead of reading on.
 */
function closeIfUnread(req: IncomingMessage): Record<string, string> {
  return req.complete ? {} : { Connection: 'close' };
}

/** The decoded path segments under /api/v1 and the query, or null for anything else. */
function apiSegments(rawUrl: string): { path: string[]; query: URLSearchParams } | null {
  let url: URL;
  try {
    url = new URL(rawUrl, 'http://nimbus.invalid');
  } catch {
    return null;
  }
  if (!url.pathname.startsWith(`${API_PREFIX}/`)) return null;
  try {
    return { path: url.pathname.slice(API_PREFIX.length + 1).split('/').map(decodeURIComponent), query: url.searchParams };
  } catch {
    return null;
  }
}

function pathOnly(rawUrl: string | undefined): string {
  const url = rawUrl ?? '/';
  const q = url.indexOf('?');
  return (q < 0 ? url : url.slice(0, q)).slice(0, 200);
}
