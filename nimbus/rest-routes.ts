/**
 * The REST endpoints under /api/v1 (docs/rest-api.md): Storm UI's paths and field names, plus
 * POST /topologies (submission) and GET /bundles/:hash (supervisors' downloads).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { squallError } from '../common/errors';
import { parseStatsWindow } from '../common/protocol/rest';
import type { TopologyConfig } from '../common/topology';
import type { Nimbus } from './nimbus';
import { mediaType, parseJsonBody, readBody } from './rest-http';
import { WAIT_SECS_MAX, type RebalanceOptions } from './topology-state';

/** What the REST app needs of Nimbus. */
export type NimbusApi = Pick<
  Nimbus,
  | 'clusterSummary'
  | 'clusterConfiguration'
  | 'supervisorSummary'
  | 'nimbusSummary'
  | 'topologySummary'
  | 'topologyPage'
  | 'componentPage'
  | 'visualization'
  | 'activate'
  | 'deactivate'
  | 'kill'
  | 'rebalance'
  | 'submit'
  | 'openBundle'
  | 'receiveHeartbeats'
  | 'prometheusMetrics'
  | 'workerLog'
>;

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  nimbus: NimbusApi;
  limits: { requestBytesMax: number; bundleBytesMax: number; heartbeatBytesMax: number };
  /** Bundle uploads being read or checked: bounded by the app. */
  uploads: { inFlight: number; max: number };
}

/** A JSON reply, or null when the handler answered itself (a stream). */
export type RouteReply = { status: number; body: unknown } | null;

export interface Route {
  method: 'GET' | 'POST';
  /** Segments after /api/v1; `:name` captures one. */
  path: string[];
  /** Needs the bearer token when Nimbus has one. */
  auth: boolean;
  handle(ctx: RouteContext): Promise<RouteReply>;
}

const ok = (body: unknown): RouteReply => ({ status: 200, body });
const JSON_TYPES = new Set(['application/json']);
const BUNDLE_TYPES = new Set(['application/javascript', 'text/javascript', 'application/octet-stream']);

function route(method: Route['method'], path: string, auth: boolean, handle: Route['handle']): Route {
  return { method, path: path.split('/').filter((s) => s.length > 0), auth, handle };
}

function waitParam(raw: string): number {
  if (!/^\d{1,9}$/.test(raw) || Number(raw) > WAIT_SECS_MAX) throw squallError('ERR_BODY_INVALID', `wait must be whole seconds from 0 to ${WAIT_SECS_MAX} (got ${JSON.stringify(raw)})`);
  return Number(raw);
}

async function readJson(ctx: RouteContext): Promise<unknown> {
  const body = await readBody(ctx.req, ctx.limits.requestBytesMax, 'ERR_BODY_TOO_LARGE');
  if (body.length > 0 && !JSON_TYPES.has(mediaType(ctx.req))) throw squallError('ERR_UNSUPPORTED_MEDIA_TYPE', `expected application/json, got ${JSON.stringify(mediaType(ctx.req) || 'none')}`);
  return parseJsonBody(body);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Storm UI's body `{rebalanceOptions: {numWorkers, executors}}`, shape-checked (values: the state machine). */
export function rebalanceOptionsOf(body: unknown): RebalanceOptions {
  if (body === undefined) return {};
  if (!isObject(body)) throw squallError('ERR_BODY_INVALID', 'the rebalance body must be a JSON object');
  const opts = body.rebalanceOptions;
  if (opts === undefined) return {};
  if (!isObject(opts)) throw squallError('ERR_BODY_INVALID', '"rebalanceOptions" must be an object');
  const out: RebalanceOptions = {};
  if (opts.numWorkers !== undefined) {
    if (typeof opts.numWorkers !== 'number') throw squallError('ERR_BODY_INVALID', '"rebalanceOptions.numWorkers" must be a number');
    out.numWorkers = opts.numWorkers;
  }
  if (opts.executors !== undefined) {
    if (!isObject(opts.executors) || !Object.values(opts.executors).every((n) => typeof n === 'number')) {
      throw squallError('ERR_BODY_INVALID', '"rebalanceOptions.executors" must map component ids to numbers');
    }
    out.executors = opts.executors as Record<string, number>;
  }
  return out;
}

function portParam(raw: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) throw squallError('ERR_LOG_NOT_FOUND', `no worker slot at port ${JSON.stringify(raw.slice(0, 20))}`);
  return Number(raw);
}

function submitConfig(raw: string | null): TopologyConfig {
  if (raw === null || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (err) {
    throw squallError('ERR_CONFIG_INVALID', `?config= is not valid JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isObject(parsed)) throw squallError('ERR_CONFIG_INVALID', '?config= must be a JSON object');
  return parsed;
}

async function submit(ctx: RouteContext): Promise<RouteReply> {
  const name = ctx.query.get('name');
  if (name === null || name === '') throw squallError('ERR_BODY_INVALID', 'the topology name is missing (?name=)');
  const config = submitConfig(ctx.query.get('config'));
  if (!BUNDLE_TYPES.has(mediaType(ctx.req))) {
    throw squallError('ERR_UNSUPPORTED_MEDIA_TYPE', `a bundle is sent as application/javascript or application/octet-stream, not ${JSON.stringify(mediaType(ctx.req) || 'none')}`);
  }
  if (ctx.uploads.inFlight >= ctx.uploads.max) throw squallError('ERR_BUSY', `${ctx.uploads.inFlight} bundle uploads are in progress`);
  ctx.uploads.inFlight++;
  try {
    const bundle = await readBody(ctx.req, ctx.limits.bundleBytesMax, 'ERR_BUNDLE_TOO_LARGE');
    if (bundle.length === 0) throw squallError('ERR_BUNDLE_INVALID', 'the bundle is empty');
    const result = await ctx.nimbus.submit(name, bundle, config, ctx.query.get('owner') ?? undefined);
    return { status: 201, body: result };
  } finally {
    ctx.uploads.inFlight--;
  }
}

async function downloadBundle(ctx: RouteContext): Promise<RouteReply> {
  const { stream, bytes } = await ctx.nimbus.openBundle(ctx.params.hash);
  const { res } = ctx;
  res.writeHead(200, {
    'Content-Type': 'application/javascript; charset=utf-8',
    'Content-Length': String(bytes),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'X-Squall-Bundle-Sha256': ctx.params.hash,
  });
  await new Promise<void>((resolve) => {
    const done = (): void => {
      stream.destroy();
      resolve();
    };
    stream.on('error', () => {
      // Headers are out: the only honest signal left is a cut connection (Content-Length unmet).
      res.destroy();
      done();
    });
    res.on('close', done);
    stream.pipe(res);
  });
  return null;
}

export const ROUTES: readonly Route[] = [
  route('GET', 'cluster/summary', false, async (c) => ok(await c.nimbus.clusterSummary())),
  route('GET', 'cluster/configuration', false, async (c) => ok(c.nimbus.clusterConfiguration())),
  route('GET', 'supervisor/summary', false, async (c) => ok({ supervisors: await c.nimbus.supervisorSummary() })),
  route('GET', 'nimbus/summary', false, async (c) => ok({ nimbuses: c.nimbus.nimbusSummary() })),
  route('GET', 'topology/summary', false, async (c) => ok({ topologies: await c.nimbus.topologySummary() })),
  route('GET', 'topology/:id', false, async (c) =>
    ok(await c.nimbus.topologyPage(c.params.id, { includeSystem: c.query.get('sys') === 'true', window: parseStatsWindow(c.query.get('window')) })),
  ),
  route('GET', 'topology/:id/component/:component', false, async (c) =>
    ok(await c.nimbus.componentPage(c.params.id, c.params.component, { window: parseStatsWindow(c.query.get('window')) })),
  ),
  route('GET', 'topology/:id/visualization', false, async (c) => ok(await c.nimbus.visualization(c.params.id))),
  route('POST', 'topology/:id/activate', true, async (c) => {
    await readJson(c);
    return ok(await c.nimbus.activate(c.params.id));
  }),
  route('POST', 'topology/:id/deactivate', true, async (c) => {
    await readJson(c);
    return ok(await c.nimbus.deactivate(c.params.id));
  }),
  route('POST', 'topology/:id/rebalance/:wait', true, async (c) => {
    const wait = waitParam(c.params.wait);
    const options = rebalanceOptionsOf(await readJson(c));
    return ok(await c.nimbus.rebalance(c.params.id, wait, options));
  }),
  route('POST', 'topology/:id/kill/:wait', true, async (c) => {
    const wait = waitParam(c.params.wait);
    await readJson(c);
    return ok(await c.nimbus.kill(c.params.id, wait));
  }),
  // Worker logs (Storm's logviewer): they may hold user data, so they need the token like bundles.
  route('GET', 'topology/:id/log/:host/:port', true, async (c) => ok(await c.nimbus.workerLog(c.params.id, c.params.host, portParam(c.params.port), 'page', c.query))),
  route('GET', 'topology/:id/log/:host/:port/search', true, async (c) => ok(await c.nimbus.workerLog(c.params.id, c.params.host, portParam(c.params.port), 'search', c.query))),
  route('POST', 'topologies', true, submit),
  route('GET', 'bundles/:hash', true, downloadBundle),
  route('POST', 'supervisors/:id/heartbeats', true, async (c) => {
    const body = await readBody(c.req, c.limits.heartbeatBytesMax, 'ERR_BODY_TOO_LARGE');
    if (!JSON_TYPES.has(mediaType(c.req))) throw squallError('ERR_UNSUPPORTED_MEDIA_TYPE', `expected application/json, got ${JSON.stringify(mediaType(c.req) || 'none')}`);
    return ok(c.nimbus.receiveHeartbeats(c.params.id, parseJsonBody(body)));
  }),
];

/** The route for a path (literal segments beat captures), and the methods the path allows. */
export function matchRoute(method: string, segments: readonly string[]): { route: Route | null; params: Record<string, string>; allowed: string[] } {
  const allowed = new Set<string>();
  let best: { route: Route; params: Record<string, string>; literals: number } | null = null;
  for (const r of ROUTES) {
    if (r.path.length !== segments.length) continue;
    const params: Record<string, string> = {};
    let literals = 0;
    const matches = r.path.every((p, i) => {
      if (p.startsWith(':')) {
        params[p.slice(1)] = segments[i];
        return segments[i].length > 0;
      }
      literals++;
      return p === segments[i];
    });
    if (!matches) continue;
    allowed.add(r.method);
    if (r.method === method && (!best || literals > best.literals)) best = { route: r, params, literals };
  }
  return { route: best?.route ?? null, params: best?.params ?? {}, allowed: [...allowed].sort() };
}
