import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { Random } from '../../../common/random';
import { BundleCache, type BundleCacheOptions } from '../../../supervisor/bundle-cache';

const BODY = Buffer.from('module.exports = { topology: "fake" };\n');
const HASH = createHash('sha256').update(BODY).digest('hex');

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** A tiny stand-in for Nimbus's bundle endpoint on 127.0.0.1, port 0. */
class FakeNimbus {
  readonly requests: Array<{ url: string; authorization: string | undefined }> = [];
  private server: http.Server | null = null;
  url = '';
  handler: Handler = (_req, res) => res.end(BODY);

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.requests.push({ url: req.url ?? '', authorization: req.headers.authorization });
      this.handler(req, res);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('BundleCache', () => {
  let dir: string;
  let nimbus: FakeNimbus;
  const caches: BundleCache[] = [];

  const cache = (over: Partial<BundleCacheOptions> = {}): BundleCache => {
    const c = new BundleCache({ dir, nimbusUrl: nimbus.url, token: 'sekrit', maxBytes: 1024, backoffInitialMs: 5, backoffMaxMs: 20, random: new Random(7), ...over });
    caches.push(c);
    return c;
  };
  const files = (): string[] => (fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []);

  beforeEach(async () => {
    dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'squall-bundles-')), 'supervisor', 'bundles');
    nimbus = new FakeNimbus();
    await nimbus.start();
  });

  afterEach(async () => {
    for (const c of caches.splice(0)) await c.close();
    await nimbus.stop();
    fs.rmSync(path.dirname(path.dirname(dir)), { recursive: true, force: true });
  });

  test('downloads with the bearer token, verifies, and serves the file from disk afterwards', async () => {
    const c = cache();
    const [a, b] = await Promise.all([c.ensure(HASH), c.ensure(HASH)]);
    expect(a).toBe(path.join(dir, `${HASH}.js`));
    expect(b).toBe(a);
    expect(fs.readFileSync(a)).toEqual(BODY);
    expect(nimbus.requests).toEqual([{ url: `/api/v1/bundles/${HASH}`, authorization: 'Bearer sekrit' }]); // one download per hash
    expect(await c.ensure(HASH)).toBe(a);
    expect(nimbus.requests).toHaveLength(1);
    expect(files()).toEqual([`${HASH}.js`]);
  });

  test('no token configured: no Authorization header', async () => {
    await cache({ token: null }).ensure(HASH);
    expect(nimbus.requests[0].authorization).toBeUndefined();
  });

  test('a hash mismatch is refused and leaves no file behind', async () => {
    nimbus.handler = (_req, res) => res.end('tampered');
    await expect(cache().ensure(HASH)).rejects.toMatchObject({ code: 'ERR_BUNDLE_HASH_MISMATCH' });
    expect(files()).toEqual([]);
    expect(nimbus.requests).toHaveLength(1); // not retried: the slot backs off instead
  });

  test('401 is ERR_UNAUTHORIZED, not retried', async () => {
    nimbus.handler = (_req, res) => {
      res.statusCode = 401;
      res.end('{"error":"no","code":"ERR_UNAUTHORIZED"}');
    };
    await expect(cache({ token: 'wrong' }).ensure(HASH)).rejects.toMatchObject({ code: 'ERR_UNAUTHORIZED' });
    expect(nimbus.requests).toHaveLength(1);
  });

  test('404 is ERR_BUNDLE_NOT_FOUND', async () => {
    nimbus.handler = (_req, res) => {
      res.statusCode = 404;
      res.end();
    };
    await expect(cache().ensure(HASH)).rejects.toMatchObject({ code: 'ERR_BUNDLE_NOT_FOUND' });
  });

  test('an oversized bundle is refused by its declared length', async () => {
    nimbus.handler = (_req, res) => res.end(Buffer.alloc(2048, 1));
    await expect(cache().ensure(HASH)).rejects.toMatchObject({ code: 'ERR_BUNDLE_TOO_LARGE' });
    expect(files()).toEqual([]);
  });

  test('an oversized bundle without a length is cut off while streaming', async () => {
    nimbus.handler = (_req, res) => {
      res.write(Buffer.alloc(800, 1));
      res.write(Buffer.alloc(800, 1));
      res.end();
    };
    await expect(cache().ensure(HASH)).rejects.toMatchObject({ code: 'ERR_BUNDLE_TOO_LARGE' });
    expect(files()).toEqual([]);
  });

  test('5xx answers are retried with backoff until one succeeds', async () => {
    let failures = 2;
    nimbus.handler = (_req, res) => {
      if (failures-- > 0) {
        res.statusCode = 503;
        res.end();
      } else res.end(BODY);
    };
    expect(await cache().ensure(HASH)).toBe(path.join(dir, `${HASH}.js`));
    expect(nimbus.requests).toHaveLength(3);
  });

  test('an unreachable Nimbus is retried, then ERR_NIMBUS_UNREACHABLE', async () => {
    const url = nimbus.url;
    await nimbus.stop();
    let attempts = 0;
    const counting: typeof fetch = (input, init) => {
      attempts += 1;
      return fetch(input, init);
    };
    await expect(cache({ nimbusUrl: url, attemptsMax: 3, fetch: counting }).ensure(HASH)).rejects.toMatchObject({ code: 'ERR_NIMBUS_UNREACHABLE' });
    expect(attempts).toBe(3);
  });

  test('a Nimbus that never answers times out', async () => {
    nimbus.handler = () => undefined;
    await expect(cache({ timeoutMs: 100, attemptsMax: 2 }).ensure(HASH)).rejects.toMatchObject({ code: 'ERR_TIMEOUT' });
    expect(nimbus.requests).toHaveLength(2);
  });

  test('a hash that is not sha256 hex is refused before any request', async () => {
    await expect(cache().ensure('../../etc/passwd')).rejects.toMatchObject({ code: 'ERR_BUNDLE_INVALID' });
    expect(nimbus.requests).toHaveLength(0);
  });

  test('a corrupted cached file is downloaded again', async () => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `${HASH}.js`), 'corrupt');
    expect(fs.readFileSync(await cache().ensure(HASH))).toEqual(BODY);
    expect(nimbus.requests).toHaveLength(1);
  });

  test('retain deletes bundles no longer assigned, and stale temporary files', async () => {
    const c = cache();
    await c.ensure(HASH);
    const other = 'f'.repeat(64);
    fs.writeFileSync(path.join(dir, `${other}.js`), 'old');
    fs.writeFileSync(path.join(dir, `.${other}.1234.tmp`), 'partial');
    fs.writeFileSync(path.join(dir, 'README'), 'not ours');
    await c.retain(new Set([HASH]));
    expect(files()).toEqual([`${HASH}.js`, 'README']);
    await c.retain(new Set());
    expect(files()).toEqual(['README']);
  });

  test('close aborts a download in progress with ERR_CLOSED', async () => {
    let arrived!: () => void;
    const requested = new Promise<void>((resolve) => (arrived = resolve));
    nimbus.handler = () => arrived();
    const c = cache();
    const pending = c.ensure(HASH);
    await requested;
    await c.close();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    await expect(c.ensure(HASH)).rejects.toMatchObject({ code: 'ERR_CLOSED' });
    expect(files()).toEqual([]);
  });
});
