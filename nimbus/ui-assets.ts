/**
 * The web UI's static files (built by scripts/build.js into dist/ui/), read once when Nimbus
 * starts and served from memory on the REST port: `/` (the page) and `/assets/<file>`. The page is
 * a single-page app with hash routes (`/#/topology/<id>`), so no path but `/` and `/assets/...`
 * ever reaches this handler and nothing shadows `/api/v1`.
 *
 * Caching: the page is `no-cache` (revalidated with its ETag on every load); it names each asset
 * with `?v=<content hash>`, and an asset asked for with its current hash is `immutable` for a year.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
  /** Short content hash, the `?v=` of the page's links. */
  version: string;
}

export interface UiAssets {
  /** True when the bundle was found (false: the page says how to build it). */
  readonly built: boolean;
  /** Answers GET/HEAD of `/` and `/assets/...`; false when the path is not the UI's. */
  serve(req: IncomingMessage, res: ServerResponse, pathname: string): boolean;
}

/** The files under /assets/ (anything else is not the UI's: no file name comes from a request). */
const ASSET_TYPES: Readonly<Record<string, string>> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.js.map': 'application/json; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

/** The page runs only its own script and style, talks only to this origin, and is never framed. */
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Squall UI</title></head>
<body><h1>Squall UI</h1><p>The web UI is not built. Run <code>node scripts/build.js</code> (or <code>npm run build</code>) and restart Nimbus.
The REST API is under <a href="api/v1/cluster/summary">/api/v1</a>.</p></body></html>
`;

/** Where the built UI is: `dist/ui` beside this file's `dist/nimbus`, or from sources, `../dist/ui`. */
export function defaultUiDir(): string {
  const beside = path.resolve(__dirname, '..', 'ui');
  if (fs.existsSync(path.join(beside, 'app.js'))) return beside;
  return path.resolve(__dirname, '..', 'dist', 'ui');
}

function asset(body: Buffer, type: string): Asset {
  const hash = createHash('sha256').update(body).digest('hex');
  return { body, type, etag: `"${hash.slice(0, 32)}"`, version: hash.slice(0, 12) };
}

function readIfPresent(file: string): Buffer | null {
  try {
    return fs.readFileSync(file);
  } catch {
    return null;
  }
}

/** Reads the built UI from `dir` (default: `defaultUiDir()`); a missing build serves a page saying so. */
export function loadUiAssets(dir = defaultUiDir()): UiAssets {
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(ASSET_TYPES)) {
    const body = readIfPresent(path.join(dir, name));
    if (body) assets.set(name, asset(body, type));
  }
  const template = readIfPresent(path.join(dir, 'index.html'));
  const built = template !== null && assets.has('app.js') && assets.has('style.css');
  const pageText = built
    ? template
        .toString('utf8')
        .replace('%APP_JS%', `assets/app.js?v=${assets.get('app.js')!.version}`)
        .replace('%STYLE_CSS%', `assets/style.css?v=${assets.get('style.css')!.version}`)
    : NOT_BUILT_PAGE;
  const page = asset(Buffer.from(pageText, 'utf8'), 'text/html; charset=utf-8');

  return {
    built,
    serve(req, res, pathname) {
      if (pathname === '/' || pathname === '/index.html') {
        send(req, res, page, { 'Cache-Control': 'no-cache', 'Content-Security-Policy': PAGE_CSP, 'X-Frame-Options': 'DENY', 'Referrer-Policy': 'no-referrer' });
        return true;
      }
      if (!pathname.startsWith('/assets/')) return false;
      const found = assets.get(pathname.slice('/assets/'.length));
      if (!found) return false;
      const versioned = new URL(req.url ?? '/', 'http://nimbus.invalid').searchParams.get('v') === found.version;
      send(req, res, found, { 'Cache-Control': versioned ? 'public, max-age=31536000, immutable' : 'no-cache' });
      return true;
    },
  };
}

function send(req: IncomingMessage, res: ServerResponse, a: Asset, headers: Record<string, string>): void {
  const common = { ETag: a.etag, 'X-Content-Type-Options': 'nosniff', ...headers };
  if (req.headers['if-none-match'] === a.etag) {
    res.writeHead(304, common);
    res.end();
    return;
  }
  res.writeHead(200, { ...common, 'Content-Type': a.type, 'Content-Length': String(a.body.length) });
  res.end(req.method === 'HEAD' ? undefined : a.body);
}
