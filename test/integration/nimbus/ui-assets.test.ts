/**
 * Nimbus serving the web UI on its REST port (127.0.0.1, port 0): the page, hashed assets with
 * cache headers, 304s, HEAD, methods, a missing build, and `/api/v1` never shadowed.
 */
import * as fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ManualClock } from '../../../common/clock';
import { resolveDaemonConfig } from '../../../common/config';
import { silentLogger } from '../../../common/logging';
import { buildNimbusApp, type NimbusApi } from '../../../nimbus/rest';
import { loadUiAssets, type UiAssets } from '../../../nimbus/ui-assets';

const nimbus = { clusterSummary: async () => ({ squallVersion: 'test' }) } as unknown as NimbusApi;

async function serve(ui: UiAssets): Promise<{ url: string; close(): Promise<void> }> {
  const app = buildNimbusApp({ nimbus, config: resolveDaemonConfig({}), logger: silentLogger(), clock: new ManualClock(), ui });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('the web UI on the REST port', () => {
  let dir: string;
  let srv: { url: string; close(): Promise<void> };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-ui-assets-'));
    fs.writeFileSync(path.join(dir, 'index.html'), '<link href="%STYLE_CSS%"><script src="%APP_JS%"></script>');
    fs.writeFileSync(path.join(dir, 'app.js'), 'console.log(1)');
    fs.writeFileSync(path.join(dir, 'style.css'), 'body{}');
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'not an asset');
    srv = await serve(loadUiAssets(dir));
  });

  afterAll(async () => {
    await srv.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the page names each asset by its content hash; versioned assets are immutable', async () => {
    const res = await fetch(`${srv.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    const js = /src="assets\/app\.js\?v=([0-9a-f]{12})"/.exec(html)?.[1];
    const css = /href="assets\/style\.css\?v=([0-9a-f]{12})"/.exec(html)?.[1];
    expect(js && css).toBeTruthy();
    const versioned = await fetch(`${srv.url}/assets/app.js?v=${js}`);
    expect([versioned.status, versioned.headers.get('cache-control'), await versioned.text()]).toEqual([200, 'public, max-age=31536000, immutable', 'console.log(1)']);
    const stale = await fetch(`${srv.url}/assets/app.js?v=000000000000`);
    expect(stale.headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${srv.url}/assets/style.css`)).headers.get('content-type')).toBe('text/css; charset=utf-8');
    const etag = versioned.headers.get('etag')!;
    expect((await fetch(`${srv.url}/assets/app.js`, { headers: { 'If-None-Match': etag } })).status).toBe(304);
    const head = await fetch(`${srv.url}/index.html`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-length'), await head.text()]).toEqual([200, String(Buffer.byteLength(html)), '']);
  });

  test('only the known files are served; other methods are 405; /api/v1 answers as before', async () => {
    for (const p of ['/assets/secret.txt', '/assets/%2e%2e/%2e%2e/package.json', '/assets/..%2fsecret.txt', '/secret.txt', '/topology/x', '/assets/']) {
      const res = await fetch(`${srv.url}${p}`);
      expect([p, res.status, ((await res.json()) as { code: string }).code]).toEqual([p, 404, 'ERR_ROUTE_NOT_FOUND']);
    }
    const post = await fetch(`${srv.url}/`, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const api = await fetch(`${srv.url}/api/v1/cluster/summary`);
    expect(await api.json()).toEqual({ squallVersion: 'test' });
    expect((await fetch(`${srv.url}/api/v1/`)).status).toBe(404);
  });

  test('without a build, the page says how to build it', async () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'squall-ui-none-'));
    const ui = loadUiAssets(empty);
    expect(ui.built).toBe(false);
    const other = await serve(ui);
    try {
      const text = await (await fetch(`${other.url}/`)).text();
      expect(text).toContain('node scripts/build.js');
      expect((await fetch(`${other.url}/assets/app.js`)).status).toBe(404);
    } finally {
      await other.close();
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });
});
