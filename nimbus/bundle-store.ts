/**
 * Submitted bundles on Nimbus's disk, content-addressed: `<storm.local.dir>/nimbus/bundles/<sha256>.js`.
 * A file appears whole or not at all (written to a temp name, then renamed), so a supervisor never
 * downloads half a bundle; the same bytes submitted twice are stored once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs, type ReadStream } from 'node:fs';
import * as path from 'node:path';
import { cfg, type DaemonConfig } from '../common/config';
import { errorCode, squallError } from '../common/errors';

const HASH_PATTERN = /^[0-9a-f]{64}$/;
const TMP_PREFIX = '.tmp-';

export interface StoredBundle {
  hash: string;
  bytes: number;
  path: string;
}

export interface BundleStoreOptions {
  dir: string;
  bytesMax: number;
}

export class BundleStore {
  readonly dir: string;
  readonly bytesMax: number;

  constructor(options: BundleStoreOptions) {
    this.dir = path.resolve(options.dir);
    this.bytesMax = options.bytesMax;
  }

  /** The store under `<storm.local.dir>/nimbus/bundles`, capped by `nimbus.bundle.max.bytes`. */
  static fromConfig(config: DaemonConfig): BundleStore {
    return new BundleStore({ dir: path.join(cfg.str(config, 'storm.local.dir'), 'nimbus', 'bundles'), bytesMax: cfg.num(config, 'nimbus.bundle.max.bytes') });
  }

  static isHash(value: string): boolean {
    return HASH_PATTERN.test(value);
  }

  static hashOf(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
  }

  /** Creates the directory and removes temp files a crash left behind. */
  async init(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    for (const name of await fs.readdir(this.dir)) {
      if (name.startsWith(TMP_PREFIX)) await fs.rm(path.join(this.dir, name), { force: true });
    }
  }

  /** Stores the bytes (ERR_BUNDLE_TOO_LARGE over the cap); storing the same bytes again is a no-op. */
  async put(bytes: Uint8Array): Promise<StoredBundle> {
    if (bytes.byteLength > this.bytesMax) {
      throw squallError('ERR_BUNDLE_TOO_LARGE', `${bytes.byteLength} bytes, over nimbus.bundle.max.bytes (${this.bytesMax})`);
    }
    const hash = BundleStore.hashOf(bytes);
    const file = this.pathOf(hash);
    if (!(await exists(file))) {
      await fs.mkdir(this.dir, { recursive: true });
      const tmp = path.join(this.dir, `${TMP_PREFIX}${hash}-${randomBytes(6).toString('hex')}`);
      try {
        await fs.writeFile(tmp, bytes, { flag: 'wx' });
        await fs.rename(tmp, file);
      } finally {
        await fs.rm(tmp, { force: true });
      }
    }
    return { hash, bytes: bytes.byteLength, path: file };
  }

  /** Where a bundle lives (whether or not it exists). ERR_BUNDLE_NOT_FOUND for a malformed hash. */
  pathOf(hash: string): string {
    if (!BundleStore.isHash(hash)) throw squallError('ERR_BUNDLE_NOT_FOUND', `${JSON.stringify(hash)} is not a sha256 hex digest`);
    return path.join(this.dir, `${hash}.js`);
  }

  has(hash: string): Promise<boolean> {
    return BundleStore.isHash(hash) ? exists(this.pathOf(hash)) : Promise.resolve(false);
  }

  /** A read stream of the bundle and its size; ERR_BUNDLE_NOT_FOUND when missing. */
  async open(hash: string): Promise<{ stream: ReadStream; bytes: number }> {
    const file = this.pathOf(hash);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(file, 'r');
    } catch (err) {
      if (errorCode(err) === 'ENOENT') throw squallError('ERR_BUNDLE_NOT_FOUND', hash);
      throw err;
    }
    try {
      const { size } = await handle.stat();
      // The stream owns the handle from here and closes it when done or destroyed.
      return { stream: handle.createReadStream({ autoClose: true }), bytes: size };
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Removes a bundle; a missing one is fine. */
  async delete(hash: string): Promise<void> {
    await fs.rm(this.pathOf(hash), { force: true });
  }

  /** Hashes of the stored bundles. */
  async list(): Promise<string[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return [];
      throw err;
    }
    return names.filter((n) => n.endsWith('.js') && BundleStore.isHash(n.slice(0, -3))).map((n) => n.slice(0, -3)).sort();
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return false;
    throw err;
  }
}
