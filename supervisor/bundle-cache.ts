/**
 * Topology bundles on the supervisor's disk, content-addressed: `<dir>/<sha256>.js`. A download
 * is streamed to a temporary file while hashed, and renamed to its final name only when the hash
 * matches, so a worker can never be started from unverified bytes. One download per hash at a
 * time; unreachable Nimbus is retried with capped, jittered backoff; bundles no longer assigned
 * are removed by `retain`.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { SystemClock, type Clock, type TimerHandle } from '../common/clock';
import { cfg, type DaemonConfig } from '../common/config';
import { describeError, errorCode, squallError } from '../common/errors';
import { silentLogger, type Logger } from '../common/logging';
import { API_PREFIX } from '../common/protocol/rest';
import { Random } from '../common/random';

/** Where verified bundles come from: the cache below, or a local-mode twin that has them already. */
export interface BundleProvider {
  /** Absolute path of the verified bundle; rejects with a coded error. */
  ensure(bundleHash: string): Promise<string>;
  /** Deletes cached bundles whose hash is not in `keep` (downloads in progress are kept). */
  retain(keep: ReadonlySet<string>): Promise<void>;
  close(): Promise<void>;
}

export interface BundleCacheOptions {
  /** `<storm.local.dir>/supervisor/bundles`. */
  dir: string;
  /** `http://host:port` of Nimbus. */
  nimbusUrl: string;
  /** Bearer token (nimbus.auth.token), or null. */
  token: string | null;
  /** Larger downloads are refused (nimbus.bundle.max.bytes). */
  maxBytes: number;
  /** Bound on one download attempt, headers to last byte. */
  timeoutMs?: number;
  /** Attempts against an unreachable Nimbus before giving up with ERR_NIMBUS_UNREACHABLE. */
  attemptsMax?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  clock?: Clock;
  random?: Random;
  logger?: Logger;
  fetch?: typeof fetch;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;
const DEFAULTS = { timeoutMs: 60_000, attemptsMax: 5, backoffInitialMs: 250, backoffMaxMs: 5_000 };
/** Errors worth another attempt: Nimbus down or slow (5xx answers are marked one by one). */
const RETRYABLE = new Set(['ERR_NIMBUS_UNREACHABLE', 'ERR_TIMEOUT']);

export function bundleCacheOptionsFromConfig(config: DaemonConfig): BundleCacheOptions {
  const host = cfg.str(config, 'nimbus.host');
  return {
    dir: path.resolve(cfg.str(config, 'storm.local.dir'), 'supervisor', 'bundles'),
    nimbusUrl: `http://${host.includes(':') ? `[${host}]` : host}:${cfg.num(config, 'nimbus.port')}`,
    token: cfg.strOrNull(config, 'nimbus.auth.token'),
    maxBytes: cfg.num(config, 'nimbus.bundle.max.bytes'),
  };
}

export class BundleCache implements BundleProvider {
  private readonly timing: typeof DEFAULTS;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly logger: Logger;
  private readonly fetch: typeof fetch;
  private readonly inflight = new Map<string, Promise<string>>();
  /** Hashes whose file this process has hashed or written itself. */
  private readonly verified = new Set<string>();
  private readonly aborts = new Set<AbortController>();
  private readonly sleeps = new Map<TimerHandle, () => void>();
  /** 5xx answers: coded ERR_NIMBUS_RESPONSE, but retried like an unreachable Nimbus. */
  private readonly transient = new WeakSet<object>();
  private closed = false;

  constructor(private readonly options: BundleCacheOptions) {
    this.timing = {
      timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
      attemptsMax: options.attemptsMax ?? DEFAULTS.attemptsMax,
      backoffInitialMs: options.backoffInitialMs ?? DEFAULTS.backoffInitialMs,
      backoffMaxMs: options.backoffMaxMs ?? DEFAULTS.backoffMaxMs,
    };
    this.clock = options.clock ?? new SystemClock();
    this.random = options.random ?? new Random();
    this.logger = (options.logger ?? silentLogger()).child({ component: 'bundle-cache' });
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  pathOf(bundleHash: string): string {
    return path.join(this.options.dir, `${bundleHash}.js`);
  }

  ensure(bundleHash: string): Promise<string> {
    if (this.closed) return Promise.reject(squallError('ERR_CLOSED', 'bundle cache is closed'));
    if (!SHA256_HEX.test(bundleHash)) return Promise.reject(squallError('ERR_BUNDLE_INVALID', `${JSON.stringify(bundleHash)} is not a sha256 hex digest`));
    const running = this.inflight.get(bundleHash);
    if (running) return running;
    const job = this.obtain(bundleHash).finally(() => this.inflight.delete(bundleHash));
    this.inflight.set(bundleHash, job);
    return job;
  }

  async retain(keep: ReadonlySet<string>): Promise<void> {
    let names: string[];
    try {
      names = await fs.readdir(this.options.dir);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return;
      throw err;
    }
    for (const name of names) {
      const hash = name.endsWith('.js') ? name.slice(0, -3) : name.startsWith('.') && name.endsWith('.tmp') ? name.slice(1, 65) : null;
      if (hash === null || !SHA256_HEX.test(hash) || keep.has(hash) || this.inflight.has(hash)) continue;
      await fs.rm(path.join(this.options.dir, name), { force: true });
      this.verified.delete(hash);
      this.logger.info({ bundleHash: hash, file: name }, 'removed a bundle no longer assigned');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const controller of this.aborts) controller.abort();
    for (const [timer, wake] of this.sleeps) {
      this.clock.clear(timer);
      wake();
    }
    this.sleeps.clear();
    await Promise.allSettled([...this.inflight.values()]);
  }

  // ---- one hash ----

  private async obtain(hash: string): Promise<string> {
    const file = this.pathOf(hash);
    if (await this.validFile(hash, file)) return file;
    await fs.mkdir(this.options.dir, { recursive: true });
    for (let attempt = 1; ; attempt++) {
      try {
        await this.download(hash, file);
        this.verified.add(hash);
        this.logger.info({ bundleHash: hash, attempt }, 'bundle downloaded and verified');
        return file;
      } catch (err) {
        if (this.closed) throw squallError('ERR_CLOSED', 'bundle cache is closed', { cause: err });
        const again = RETRYABLE.has(errorCode(err) ?? '') || (typeof err === 'object' && err !== null && this.transient.has(err));
        if (!again || attempt >= this.timing.attemptsMax) throw err;
        const delayMs = this.backoffMs(attempt);
        this.logger.warn({ bundleHash: hash, attempt, delayMs, err: describeError(err) }, 'bundle download failed; retrying');
        await this.sleep(delayMs);
      }
    }
  }

  /** An existing file is trusted once this process has hashed it; a bad one is deleted. */
  private async validFile(hash: string, file: string): Promise<boolean> {
    try {
      await fs.access(file);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return false;
      throw err;
    }
    if (this.verified.has(hash)) return true;
    if ((await hashFile(file)) === hash) {
      this.verified.add(hash);
      return true;
    }
    this.logger.warn({ bundleHash: hash }, 'cached bundle does not match its hash; downloading it again');
    await fs.rm(file, { force: true });
    return false;
  }

  private async download(hash: string, file: string): Promise<void> {
    const controller = new AbortController();
    this.aborts.add(controller);
    let timedOut = false;
    const timer = this.clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.timing.timeoutMs);
    const tmp = path.join(this.options.dir, `.${hash}.${(this.random.next32() >>> 0).toString(16)}.tmp`);
    try {
      const res = await this.request(hash, controller.signal);
      const actual = await this.writeBody(res, tmp, controller);
      if (actual !== hash) throw squallError('ERR_BUNDLE_HASH_MISMATCH', `expected sha256 ${hash}, downloaded ${actual}`);
      await fs.rename(tmp, file);
    } catch (err) {
      if (timedOut && !errorCode(err)?.startsWith('ERR_BUNDLE')) throw squallError('ERR_TIMEOUT', `bundle download took over ${this.timing.timeoutMs} ms`, { cause: err });
      throw err;
    } finally {
      this.clock.clear(timer);
      this.aborts.delete(controller);
      await fs.rm(tmp, { force: true });
    }
  }

  private async request(hash: string, signal: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;
    let res: Response;
    try {
      res = await this.fetch(`${this.options.nimbusUrl}${API_PREFIX}/bundles/${hash}`, { headers, signal, redirect: 'error' });
    } catch (err) {
      throw squallError('ERR_NIMBUS_UNREACHABLE', `${this.options.nimbusUrl}: ${describeError((err as { cause?: unknown }).cause ?? err)}`, { cause: err });
    }
    if (res.ok) return res;
    await res.body?.cancel().catch((err: unknown) => this.logger.debug({ err }, 'discarding an error body failed'));
    if (res.status === 401 || res.status === 403) throw squallError('ERR_UNAUTHORIZED', `Nimbus refused the bundle download (HTTP ${res.status}); check nimbus.auth.token`);
    if (res.status === 404) throw squallError('ERR_BUNDLE_NOT_FOUND', `Nimbus has no bundle ${hash}`);
    if (res.status >= 500) {
      const err = squallError('ERR_NIMBUS_RESPONSE', `bundle download answered HTTP ${res.status}`);
      this.transient.add(err);
      throw err;
    }
    throw squallError('ERR_NIMBUS_RESPONSE', `bundle download answered HTTP ${res.status}`);
  }

  /** Streams the body to `tmp` under the size cap; resolves with the sha256 of what was written. */
  private async writeBody(res: Response, tmp: string, controller: AbortController): Promise<string> {
    const max = this.options.maxBytes;
    const tooLarge = (): Error => squallError('ERR_BUNDLE_TOO_LARGE', `bundle is over ${max} bytes (nimbus.bundle.max.bytes)`);
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > max) {
      controller.abort();
      throw tooLarge();
    }
    if (!res.body) throw squallError('ERR_NIMBUS_RESPONSE', 'bundle download has no body');
    const hasher = createHash('sha256');
    const fh = await fs.open(tmp, 'wx', 0o644);
    try {
      let bytes = 0;
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        bytes += chunk.byteLength;
        if (bytes > max) {
          controller.abort();
          throw tooLarge();
        }
        hasher.update(chunk);
        await fh.write(chunk);
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    return hasher.digest('hex');
  }

  private backoffMs(attempt: number): number {
    const raw = Math.min(this.timing.backoffMaxMs, this.timing.backoffInitialMs * 2 ** Math.min(20, attempt - 1));
    return Math.round(raw / 2 + (raw / 2) * this.random.nextFloat());
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.sleeps.delete(timer);
        resolve();
      }, ms);
      this.sleeps.set(timer, resolve);
    });
  }
}

export async function hashFile(file: string): Promise<string> {
  const hasher = createHash('sha256');
  for await (const chunk of createReadStream(file)) hasher.update(chunk as Buffer);
  return hasher.digest('hex');
}
